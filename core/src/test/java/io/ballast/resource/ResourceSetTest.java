package io.ballast.resource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ResourceSetTest {

  static Resource resource(ResourceType type, String id, String body) {
    return Resource.parse(type, id, Json.mapper().readTree(body.replace('\'', '"')));
  }

  static Resource upstream(String id) {
    return resource(ResourceType.UPSTREAMS, id, "{'nodes':{'127.0.0.1:80':1}}");
  }

  static Resource route(String id, String reference) {
    return resource(ResourceType.ROUTES, id, "{'uri':'/" + id + "'," + reference + "}");
  }

  @Test
  void resolvesReferencesAndOrdersCanonically() {
    ResourceSet set =
        ResourceSet.builder()
            .add(route("2", "'service_id':'s'"))
            .add(route("10", "'upstream_id':9"))
            .add(resource(ResourceType.SERVICES, "s", "{'upstream_id':'9'}"))
            .add(upstream("9"))
            .add(resource(ResourceType.CONSUMERS, "jack", "{}"))
            .build();

    assertThat(set.size()).isEqualTo(5);
    assertThat(set.of(ResourceType.ROUTES).keySet()).containsExactly("10", "2");
    assertThat(set.get(ResourceType.SERVICES, "s")).isPresent();
    assertThat(set.get(ResourceType.SERVICES, "t")).isEmpty();
    assertThat(set.counts())
        .isEqualTo(
            Map.of(
                ResourceType.UPSTREAMS, 1,
                ResourceType.SERVICES, 1,
                ResourceType.CONSUMERS, 1,
                ResourceType.PLUGIN_CONFIGS, 0,
                ResourceType.GLOBAL_RULES, 0,
                ResourceType.PLUGIN_METADATA, 0,
                ResourceType.SSLS, 0,
                ResourceType.ROUTES, 2));
    List<String> order = set.inCanonicalOrder().map(r -> r.type().plural() + "/" + r.id()).toList();
    assertThat(order)
        .containsExactly("upstreams/9", "services/s", "consumers/jack", "routes/10", "routes/2");
  }

  @Test
  void refusesMissingReferenceNamingTheReferrer() {
    ResourceSet.Builder builder = ResourceSet.builder().add(route("1", "'upstream_id':'9'"));

    assertThatThrownBy(builder::build)
        .isInstanceOf(InvalidResourceException.class)
        .hasMessage("route '1': upstream_id: upstream '9' does not exist");
  }

  @Test
  void refusesMissingServiceAndServiceUpstream() {
    assertThatThrownBy(ResourceSet.builder().add(route("1", "'service_id':'s'"))::build)
        .hasMessage("route '1': service_id: service 's' does not exist");
    assertThatThrownBy(
            ResourceSet.builder().add(resource(ResourceType.SERVICES, "s", "{'upstream_id':'u'}"))
                ::build)
        .hasMessage("service 's': upstream_id: upstream 'u' does not exist");
  }

  @Test
  void refusesDuplicates() {
    ResourceSet.Builder builder = ResourceSet.builder().add(upstream("1"));

    assertThatThrownBy(() -> builder.add(upstream("1")))
        .isInstanceOf(InvalidResourceException.class)
        .hasMessage("upstream '1': id: is defined twice");
  }

  @Test
  void isImmutable() {
    ResourceSet set = ResourceSet.builder().add(upstream("1")).build();

    assertThatThrownBy(() -> set.of(ResourceType.UPSTREAMS).remove("1"))
        .isInstanceOf(UnsupportedOperationException.class);
    assertThat(ResourceSet.empty().size()).isZero();
  }
}
