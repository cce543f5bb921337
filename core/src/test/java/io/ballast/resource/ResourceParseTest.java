package io.ballast.resource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import tools.jackson.databind.JsonNode;

class ResourceParseTest {

  private static JsonNode json(String text) {
    return Json.mapper().readTree(text.replace('\'', '"'));
  }

  @Test
  void acceptsRouteWithInlineUpstreamAndSetsId() {
    Resource route =
        Resource.parse(
            ResourceType.ROUTES,
            "7",
            json(
                "{'uri':'/api/*','methods':['GET','POST'],'host':'example.com','priority':10,"
                    + "'status':1,'name':'api','enable_websocket':false,'plugins':{},"
                    + "'upstream':{'type':'roundrobin','nodes':{'127.0.0.1:8080':1,'[::1]:81':0},"
                    + "'timeout':{'connect':1,'send':2.5,'read':3},'retries':2,'scheme':'http',"
                    + "'pass_host':'rewrite','upstream_host':'backend'}}"));

    assertThat(route.type()).isEqualTo(ResourceType.ROUTES);
    assertThat(route.id()).isEqualTo("7");
    assertThat(route.value().get("id").stringValue()).isEqualTo("7");
  }

  @Test
  void keepsFieldsItDoesNotReadAndDoesNotChangeTheInput() {
    JsonNode input =
        json("{'uri':'/a','upstream_id':1,'labels':{'team':'x'},'create_time':1700000000}");

    Resource route = Resource.parse(ResourceType.ROUTES, "r-1", input);

    assertThat(route.value().get("labels")).isEqualTo(json("{'team':'x'}"));
    assertThat(route.value().get("create_time").asLong()).isEqualTo(1700000000L);
    assertThat(route.ignoredFields()).isEmpty();
    assertThat(route.value().get("upstream_id").asInt()).isEqualTo(1);
    assertThat(input.has("id")).isFalse();
  }

  @Test
  void acceptsIntegerIdInBodyThatMatches() {
    Resource upstream =
        Resource.parse(
            ResourceType.UPSTREAMS,
            "5",
            json("{'id':5,'nodes':[{'host':'a','port':80,'weight':1}]}"));

    assertThat(upstream.value().get("id").isString()).isTrue();
  }

  @Test
  void consumerUsesUsername() {
    Resource consumer =
        Resource.parse(
            ResourceType.CONSUMERS,
            "jack",
            json("{'plugins':{'key-auth':{'key':'k'}},'desc':'d'}"));

    assertThat(consumer.value().get("username").stringValue()).isEqualTo("jack");
    assertThat(consumer.value().has("id")).isFalse();
  }

  @Test
  void aServiceReadsHostOnlyWithoutHostsAndANullAsAbsent() {
    assertThat(serviceHosts("{'host':'a.com','hosts':['B.com']}")).containsExactly("b.com");
    assertThat(serviceHosts("{'host':'A.com'}")).containsExactly("a.com");
    assertThat(serviceHosts("{'host':null,'hosts':null}")).isEmpty();
  }

  /** {@code host} on a service is Ballast's old reading: data stored then is read tolerantly. */
  private static List<String> serviceHosts(String body) {
    return Resource.parse(ResourceType.SERVICES, "s1", json(body), ParseMode.TOLERANT)
        .spec(ServiceSpec.class)
        .hosts();
  }

  @Test
  void serviceAndBareUpstreamAreAccepted() {
    Resource.parse(
        ResourceType.SERVICES,
        "s1",
        json("{'name':'svc','hosts':['a.com','*.b.com'],'upstream_id':'u1','plugins':{}}"));
    Resource.parse(
        ResourceType.UPSTREAMS,
        "u1",
        json("{'nodes':{'backend':1},'type':'chash','key':'remote_addr'}"));
  }

  static Stream<Arguments> invalid() {
    return Stream.of(
        Arguments.of(
            ResourceType.ROUTES,
            "7",
            "{'uri':'/a','upstream':{'nodes':{}}}",
            "upstream.nodes",
            "must not be empty"),
        Arguments.of(
            ResourceType.ROUTES,
            "7",
            "{'uri':'/a','upstream':{'nodes':[]}}",
            "upstream.nodes",
            "must not be empty"),
        Arguments.of(ResourceType.ROUTES, "7", "{'upstream_id':'1'}", "uri", "is required"),
        Arguments.of(
            ResourceType.ROUTES, "7", "{'uri':'a','upstream_id':'1'}", "uri", "starting with '/'"),
        Arguments.of(
            ResourceType.ROUTES,
            "7",
            "{'uri':'/a','uris':['/b'],'upstream_id':'1'}",
            "uris",
            "not both"),
        Arguments.of(
            ResourceType.ROUTES, "7", "{'uris':[],'upstream_id':'1'}", "uris", "must not be empty"),
        Arguments.of(
            ResourceType.ROUTES,
            "7",
            "{'uris':['/a',3],'upstream_id':'1'}",
            "uris[1]",
            "starting with '/'"),
        Arguments.of(
            ResourceType.ROUTES,
            "7",
            "{'uri':'/a','methods':['GET','FETCH'],'upstream_id':'1'}",
            "methods[1]",
            "must be one of"),
        Arguments.of(
            ResourceType.ROUTES,
            "7",
            "{'uri':'/a','methods':'GET','upstream_id':'1'}",
            "methods",
            "must be an array"),
        Arguments.of(
            ResourceType.ROUTES,
            "7",
            "{'uri':'/a','host':'a','hosts':['b'],'upstream_id':'1'}",
            "hosts",
            "not both"),
        Arguments.of(
            ResourceType.ROUTES,
            "7",
            "{'uri':'/a','hosts':['a b'],'upstream_id':'1'}",
            "hosts[0]",
            "host name"),
        Arguments.of(
            ResourceType.ROUTES,
            "7",
            "{'uri':'/a','priority':1.5,'upstream_id':'1'}",
            "priority",
            "integer"),
        Arguments.of(
            ResourceType.ROUTES,
            "7",
            "{'uri':'/a','status':2,'upstream_id':'1'}",
            "status",
            "0 or 1"),
        Arguments.of(
            ResourceType.ROUTES,
            "7",
            "{'uri':'/a'}",
            "upstream",
            "upstream, upstream_id, service_id, plugins or plugin_config_id"),
        Arguments.of(
            ResourceType.ROUTES, "7", "{'uri':'/a','plugins':[]}", "plugins", "must be an object"),
        Arguments.of(
            ResourceType.ROUTES,
            "7",
            "{'uri':'/a','upstream_id':'1','plugins':{'key-auth':true}}",
            "plugins.key-auth",
            "must be an object"),
        Arguments.of(
            ResourceType.ROUTES,
            "7",
            "{'uri':'/a','priority':4294967296,'upstream_id':'1'}",
            "priority",
            "32 bits"),
        Arguments.of(
            ResourceType.UPSTREAMS,
            "u",
            "{'nodes':{'127.0.0.1:80':4294967296}}",
            "nodes.'127.0.0.1:80'",
            "weight must be an integer from 0 to 2147483647"),
        route("'filter_func':'function(vars) return true end'", "filter_func", "Lua code"),
        route("'script':'return 1'", "script", "Lua code"),
        route("'plugin_config_id':[1]", "plugin_config_id", "resource id"),
        route("'vars':{'arg_a':'x'}", "vars", "must be an array"),
        route("'remote_addrs':['10.0.0.0/8','x']", "remote_addrs[1]", "not an IPv4 or IPv6"),
        route("'remote_addrs':['example.com']", "remote_addrs[0]", "not an IPv4 or IPv6"),
        route("'remote_addrs':['10.0.0.0/33']", "remote_addrs[0]", "prefix length"),
        route("'remote_addrs':['::1/129']", "remote_addrs[0]", "prefix length"),
        route("'remote_addrs':[]", "remote_addrs", "must not be empty"),
        route("'remote_addrs':'10.0.0.1'", "remote_addrs", "must be an array"),
        route("'remote_addr':'10.0.0.256'", "remote_addr", "not an IPv4 or IPv6"),
        route("'remote_addr':['10.0.0.1']", "remote_addr", "CIDR string"),
        route("'remote_addr':'::1','remote_addrs':['::1']", "remote_addrs", "not both"),
        Arguments.of(
            ResourceType.SERVICES,
            "s1",
            "{'upstream_id':'1','plugins':{'limit-count':[]}}",
            "plugins.limit-count",
            "must be an object"),
        Arguments.of(
            ResourceType.ROUTES,
            "7",
            "{'uri':'/a','upstream_id':true}",
            "upstream_id",
            "resource id"),
        Arguments.of(
            ResourceType.ROUTES, "7", "{'uri':'/a','upstream_id':'1','name':5}", "name", "string"),
        Arguments.of(
            ResourceType.ROUTES,
            "7",
            "{'uri':'/a','upstream_id':'1','enable_websocket':'yes'}",
            "enable_websocket",
            "true or false"),
        Arguments.of(
            ResourceType.ROUTES, "7", "{'id':'8','uri':'/a','upstream_id':'1'}", "id", "differs"),
        Arguments.of(ResourceType.ROUTES, "7", "[]", null, "must be a JSON object"),
        Arguments.of(
            ResourceType.ROUTES, "bad id", "{'uri':'/a','upstream_id':'1'}", "id", "letters"),
        Arguments.of(ResourceType.UPSTREAMS, "u", "{}", "nodes", "is required"),
        Arguments.of(ResourceType.UPSTREAMS, "u", "{'nodes':'a:80'}", "nodes", "must be an object"),
        Arguments.of(ResourceType.UPSTREAMS, "u", "{'nodes':{'a:0':1}}", "nodes.'a:0'", "port"),
        Arguments.of(
            ResourceType.UPSTREAMS, "u", "{'nodes':{':80':1}}", "nodes.':80'", "host is empty"),
        Arguments.of(
            ResourceType.UPSTREAMS, "u", "{'nodes':{'a:80':-1}}", "nodes.'a:80'", "weight"),
        Arguments.of(
            ResourceType.UPSTREAMS,
            "u",
            "{'nodes':[{'host':'','port':80,'weight':1}]}",
            "nodes[0].host",
            "non-empty"),
        Arguments.of(
            ResourceType.UPSTREAMS,
            "u",
            "{'nodes':[{'host':'a','port':70000,'weight':1}]}",
            "nodes[0].port",
            "1 to 65535"),
        Arguments.of(
            ResourceType.UPSTREAMS,
            "u",
            "{'nodes':[{'host':'a','port':80}]}",
            "nodes[0].weight",
            "weight"),
        Arguments.of(
            ResourceType.UPSTREAMS, "u", "{'nodes':{'a':1},'type':'random'}", "type", "roundrobin"),
        Arguments.of(
            ResourceType.UPSTREAMS,
            "u",
            "{'nodes':{'a':1},'scheme':'grpc'}",
            "scheme",
            "http or https"),
        Arguments.of(
            ResourceType.UPSTREAMS,
            "u",
            "{'nodes':{'a':1},'timeout':{'connect':1,'send':0,'read':1}}",
            "timeout.send",
            "positive"),
        Arguments.of(
            ResourceType.UPSTREAMS, "u", "{'nodes':{'a':1},'retries':-1}", "retries", ">= 0"),
        Arguments.of(
            ResourceType.UPSTREAMS,
            "u",
            "{'nodes':{'a':1},'pass_host':'keep'}",
            "pass_host",
            "pass, node or rewrite"),
        Arguments.of(
            ResourceType.UPSTREAMS,
            "u",
            "{'nodes':{'a':1},'pass_host':'rewrite'}",
            "upstream_host",
            "required"),
        Arguments.of(
            ResourceType.SERVICES,
            "s",
            "{'upstream':{'nodes':{}}}",
            "upstream.nodes",
            "must not be empty"),
        Arguments.of(ResourceType.SERVICES, "s", "{'hosts':'a.com'}", "hosts", "must be an array"),
        Arguments.of(ResourceType.CONSUMERS, "jack", "{'username':'jill'}", "username", "differs"),
        Arguments.of(ResourceType.CONSUMERS, "ja.ck", "{}", "username", "letters"),
        Arguments.of(
            ResourceType.CONSUMERS, "jack", "{'plugins':1}", "plugins", "must be an object"),
        Arguments.of(ResourceType.GLOBAL_RULES, "g", "{}", "plugins", "is required"),
        Arguments.of(
            ResourceType.PLUGIN_CONFIGS, "p", "{'plugins':{'cors':1}}", "plugins.cors", "object"),
        Arguments.of(ResourceType.PLUGIN_CONFIGS, "p", "{'plugins':{},'desc':2}", "desc", "string"),
        Arguments.of(ResourceType.SSLS, "s", "{'key':'k','snis':['a']}", "cert", "PEM"),
        Arguments.of(ResourceType.SSLS, "s", "{'cert':'c','snis':['a']}", "key", "PEM"),
        Arguments.of(ResourceType.SSLS, "s", "{'cert':'c','key':'k'}", "snis", "is required"),
        Arguments.of(
            ResourceType.SSLS, "s", "{'cert':'c','key':'k','snis':['a b']}", "snis[0]", "host"),
        Arguments.of(
            ResourceType.SSLS,
            "s",
            "{'cert':'c','key':'k','sni':'a','snis':['b']}",
            "snis",
            "not both"),
        Arguments.of(
            ResourceType.SSLS,
            "s",
            "{'cert':'c','key':'k','sni':'a','type':'client'}",
            "type",
            "server"));
  }

  /** A route on '/a' with upstream_id '1' plus {@code fields}, refused at {@code field}. */
  private static Arguments route(String fields, String field, String problem) {
    return Arguments.of(
        ResourceType.ROUTES, "7", "{'uri':'/a','upstream_id':'1'," + fields + "}", field, problem);
  }

  @Test
  void acceptsVarsAndRemoteAddrs() {
    Resource route =
        Resource.parse(
            ResourceType.ROUTES,
            "7",
            json(
                "{'uri':'/user/:id/*','upstream_id':'1','remote_addrs':['10.0.0.0/8','::1',"
                    + "'fe80::/16','192.168.1.1','::ffff:10.0.0.1/104'],"
                    + "'vars':[['arg_a','==','x'],['http_x_v','!','~~','^v[0-9]+$'],"
                    + "['cookie_s','~*','A'],['uri','in',['/a','/b']],['host','HAS','x'],"
                    + "['remote_addr','~=',null],['request_method','>',' 0x1F '],"
                    + "['arg_n','<=',5],['arg_b','==',true]]}"));
    assertThat(route.value().get("vars").size()).isEqualTo(9);
    Resource.parse(
        ResourceType.ROUTES,
        "8",
        json("{'uri':'/a','upstream_id':'1','remote_addr':'::1','vars':[]}"));
  }

  @ParameterizedTest
  @MethodSource("invalid")
  void errorNamesTypeIdAndField(
      ResourceType type, String id, String body, String field, String problem) {
    assertThatThrownBy(() -> Resource.parse(type, id, json(body)))
        .isInstanceOfSatisfying(
            InvalidResourceException.class,
            e -> {
              assertThat(e.owner()).isEqualTo(type.singular() + " '" + id + "'");
              assertThat(e.field()).isEqualTo(field);
              assertThat(e.getMessage())
                  .startsWith(type.singular() + " '" + id + "': ")
                  .contains(problem);
              if (field != null) {
                assertThat(e.getMessage()).contains(": " + field + ": ");
              }
            });
  }

  @Test
  void messageReadsNaturally() {
    assertThatThrownBy(
            () ->
                Resource.parse(
                    ResourceType.ROUTES, "7", json("{'uri':'/a','upstream':{'nodes':[]}}")))
        .hasMessage("route '7': upstream.nodes: must not be empty");
  }

  private static final String PEM =
      "-----BEGIN CERTIFICATE-----\\nMIIB\\n-----END CERTIFICATE-----";

  /** Fields APISIX's schema refuses (additionalProperties = false), and nested objects. */
  static Stream<Arguments> unknownFields() {
    return Stream.of(
        Arguments.of(
            ResourceType.ROUTES,
            "{'uri':'/a','upstream_id':'u','method':['POST']}",
            "route 'x': unknown field 'method'; did you mean 'methods'?"),
        Arguments.of(
            ResourceType.ROUTES,
            "{'uri':'/a','upstream_id':'u','x_custom':1}",
            "route 'x': unknown field 'x_custom'"),
        Arguments.of(
            ResourceType.ROUTES,
            "{'uri':'/a','upstream':{'nodes':{'a:80':1},'tpye':'chash'}}",
            "route 'x': unknown field 'upstream.tpye'; did you mean 'type'?"),
        Arguments.of(
            ResourceType.UPSTREAMS,
            "{'tpye':'roundrobin','nodes':{'a:80':1}}",
            "upstream 'x': unknown field 'tpye'; did you mean 'type'?"),
        Arguments.of(
            ResourceType.UPSTREAMS,
            "{'nodes':{'a:80':1},'timeout':{'connect':1,'send':1,'read':1,'raed':2}}",
            "upstream 'x': unknown field 'timeout.raed'; did you mean 'read'?"),
        Arguments.of(
            ResourceType.UPSTREAMS,
            "{'nodes':{'a:80':1},'keepalive_pool':{'szie':10}}",
            "upstream 'x': unknown field 'keepalive_pool.szie'; did you mean 'size'?"),
        Arguments.of(
            ResourceType.UPSTREAMS,
            "{'nodes':[{'host':'a','port':80,'weight':1,'wieght':2}]}",
            "upstream 'x': unknown field 'nodes[0].wieght'; did you mean 'weight'?"),
        Arguments.of(
            ResourceType.UPSTREAMS,
            "{'nodes':{'a:80':1},'checks':{'active':{'htpp_path':'/'}}}",
            "upstream 'x': unknown field 'checks.active.htpp_path'; did you mean 'http_path'?"),
        Arguments.of(
            ResourceType.UPSTREAMS,
            "{'nodes':{'a:80':1},'checks':{'active':{},'passive':{'unhealthy':{'http_failure':1}}}}",
            "upstream 'x': unknown field 'checks.passive.unhealthy.http_failure'; did you mean"
                + " 'http_failures'?"),
        Arguments.of(
            ResourceType.SERVICES,
            "{'upstream_id':'u','plugin':{}}",
            "service 'x': unknown field 'plugin'; did you mean 'plugins'?"),
        Arguments.of(
            ResourceType.SERVICES,
            "{'upstream_id':'u','host':'a.com'}",
            "service 'x': unknown field 'host'; did you mean 'hosts'?"),
        Arguments.of(
            ResourceType.CONSUMERS,
            "{'plugins':{},'decs':'d'}",
            "consumer 'x': unknown field 'decs'; did you mean 'desc'?"),
        Arguments.of(
            ResourceType.SSLS,
            "{'cert':'" + PEM + "','key':'k','snis':['a.com'],'statsu':1}",
            "ssl 'x': unknown field 'statsu'; did you mean 'status'?"),
        Arguments.of(
            ResourceType.SSLS,
            "{'cert':'" + PEM + "','key':'k','snis':['a.com'],'exptime':1700000000}",
            "ssl 'x': unknown field 'exptime'"),
        Arguments.of(
            ResourceType.PLUGIN_CONFIGS,
            "{'plugins':{},'lables':{}}",
            "plugin_config 'x': unknown field 'lables'; did you mean 'labels'?"),
        Arguments.of(
            ResourceType.GLOBAL_RULES,
            "{'plugins':{},'name':'g'}",
            "global_rule 'x': unknown field 'name'"));
  }

  @ParameterizedTest
  @MethodSource("unknownFields")
  void anUnknownFieldIsRefusedNamingItWithTheClosestKnownOne(
      ResourceType type, String body, String message) {
    assertThatThrownBy(() -> Resource.parse(type, "x", json(body)))
        .isInstanceOf(InvalidResourceException.class)
        .hasMessage(message);
  }

  @ParameterizedTest
  @MethodSource("unknownFields")
  void readTolerantlyAnUnknownFieldIsKeptAndListed(ResourceType type, String body, String message) {
    Resource resource = Resource.parse(type, "x", json(body), ParseMode.TOLERANT);

    String field = message.replaceFirst("^.*unknown field '([^']+)'.*$", "$1");
    assertThat(resource.ignoredFields()).containsExactly(field);
    assertThat(resource.value().toString()).contains(field.replaceFirst("^.*[.\\]]", ""));
  }

  @Test
  void readTolerantlyAMisspeltFieldChangesNothingItServes() {
    RouteSpec route =
        Resource.parse(
                ResourceType.ROUTES,
                "1",
                json("{'uri':'/a','upstream_id':'u','method':['POST']}"),
                ParseMode.TOLERANT)
            .spec(RouteSpec.class);

    assertThat(route.methods()).isEmpty(); // as an older Ballast served it: every method
  }

  /** Fields APISIX allows that Ballast cannot honour without serving something else. */
  static Stream<Arguments> unsupportedFields() {
    return Stream.of(
        Arguments.of(
            ResourceType.ROUTES,
            "{'uri':'/a','upstream_id':'u','timeout':{'connect':1,'send':1,'read':1}}",
            "route 'x': timeout: is not supported by Ballast: a route's own timeout; set timeout"
                + " on its upstream"),
        Arguments.of(
            ResourceType.SERVICES,
            "{'upstream_id':'u','script':'local _M = {} return _M'}",
            "service 'x': script: is not supported by Ballast: it is Lua code, which Ballast"
                + " cannot run"),
        Arguments.of(
            ResourceType.CONSUMERS,
            "{'plugins':{},'group_id':'gold'}",
            "consumer 'x': group_id: is not supported by Ballast: consumer groups; put the"
                + " group's plugins on the consumer"),
        Arguments.of(
            ResourceType.SSLS,
            "{'cert':'" + PEM + "','key':'k','snis':['a.com'],'client':{'ca':'" + PEM + "'}}",
            "ssl 'x': client: is not supported by Ballast: verifying client certificates (mTLS)"
                + " on the proxy"),
        Arguments.of(
            ResourceType.SSLS,
            "{'cert':'" + PEM + "','key':'k','snis':['a.com'],'ssl_protocols':['TLSv1.3']}",
            "ssl 'x': ssl_protocols: is not supported by Ballast: choosing TLS protocol versions"
                + " per ssl"),
        Arguments.of(
            ResourceType.UPSTREAMS,
            "{'nodes':{'a:80':1},'tls':{'client_cert_id':'1'}}",
            "upstream 'x': tls: is not supported by Ballast: client certificates towards"
                + " upstreams"),
        Arguments.of(
            ResourceType.UPSTREAMS,
            "{'service_name':'a','discovery_type':'dns'}",
            "upstream 'x': service_name: is not supported by Ballast: service discovery; list"
                + " the nodes"),
        Arguments.of(
            ResourceType.ROUTES,
            "{'uri':'/a','upstream':{'nodes':{'a:80':1},'checks':{'active':{'http_method':'POST'}}}}",
            "route 'x': upstream.checks.active.http_method: is not supported by Ballast: probes"
                + " other than GET"));
  }

  @ParameterizedTest
  @MethodSource("unsupportedFields")
  void aFieldBallastCannotHonourIsRefusedSayingSo(ResourceType type, String body, String message) {
    assertThatThrownBy(() -> Resource.parse(type, "x", json(body)))
        .isInstanceOf(InvalidResourceException.class)
        .hasMessage(message);
  }

  @Test
  void readTolerantlyAFieldBallastCannotHonourIsIgnoredAsBefore() {
    Resource consumer =
        Resource.parse(
            ResourceType.CONSUMERS,
            "jack",
            json("{'plugins':{},'group_id':'gold'}"),
            ParseMode.TOLERANT);

    assertThat(consumer.ignoredFields()).containsExactly("group_id");
  }

  @Test
  void luaIsRefusedEvenReadTolerantly() {
    assertThatThrownBy(
            () ->
                Resource.parse(
                    ResourceType.ROUTES,
                    "1",
                    json("{'uri':'/a','upstream_id':'u','filter_func':'function(vars) end'}"),
                    ParseMode.TOLERANT))
        .hasMessageContaining("filter_func: is Lua code");
  }

  @Test
  void everyFieldApisixAllowsAndBallastHonoursIsAccepted() {
    String meta = "'name':'n','desc':'d','labels':{'team':'a'},'create_time':1,'update_time':2";
    String upstream =
        "{'nodes':[{'host':'a','port':80,'weight':1,'priority':0,'metadata':{}}],'type':'chash',"
            + "'hash_on':'vars','key':'uri','scheme':'http','retries':1,'retry_timeout':1,"
            + "'timeout':{'connect':1,'send':1,'read':1},'pass_host':'pass',"
            + "'keepalive_pool':{'size':1,'idle_timeout':1,'requests':1},"
            + "'checks':{'active':{'type':'http','timeout':1,'concurrency':1,'host':'a','port':80,"
            + "'http_method':'GET','http_path':'/','http_req_body':'',"
            + "'https_verify_certificate':true,'req_headers':['A: b'],"
            + "'healthy':{'interval':1,'http_statuses':[200],'successes':1},"
            + "'unhealthy':{'interval':1,'http_statuses':[500],'http_failures':1,"
            + "'tcp_failures':1,'timeouts':1}},"
            + "'passive':{'type':'http','healthy':{'http_statuses':[200],'successes':1},"
            + "'unhealthy':{'http_statuses':[500],'http_failures':1,'tcp_failures':1,"
            + "'timeouts':1}}}}";
    Resource.parse(
        ResourceType.UPSTREAMS, "u", json(upstream.replaceFirst("\\{", "{" + meta + ",")));
    Resource.parse(
        ResourceType.ROUTES,
        "r",
        json(
            "{"
                + meta
                + ",'uri':'/a','priority':1,'methods':['GET'],'hosts':['a.com'],"
                + "'remote_addrs':['10.0.0.0/8'],'vars':[],'script_id':'s','plugins':{},"
                + "'plugin_config_id':'p','upstream':"
                + upstream
                + ",'service_id':'s','enable_websocket':true,'status':1}"));
    Resource.parse(
        ResourceType.SERVICES,
        "s",
        json(
            "{" + meta + ",'plugins':{},'upstream_id':'u','enable_websocket':true,'hosts':['a']}"));
    Resource.parse(
        ResourceType.CONSUMERS,
        "c",
        json("{'id':'c','desc':'d','labels':{},'create_time':1,'update_time':2,'plugins':{}}"));
    Resource.parse(
        ResourceType.SSLS,
        "t",
        json(
            "{'desc':'d','labels':{},'create_time':1,'update_time':2,'type':'server','cert':'"
                + PEM
                + "','key':'k','snis':['a.com'],'certs':[],'keys':[],'status':1}"));
    Resource.parse(ResourceType.PLUGIN_CONFIGS, "p", json("{" + meta + ",'plugins':{}}"));
    Resource.parse(
        ResourceType.GLOBAL_RULES, "g", json("{'create_time':1,'update_time':2,'plugins':{}}"));
  }

  @Test
  void ignoredFieldsAreDescribedInOneLine() {
    List<Resource> resources = new ArrayList<>();
    resources.add(
        Resource.parse(
            ResourceType.ROUTES, "1", json("{'uri':'/a','upstream_id':'u'}"), ParseMode.TOLERANT));
    for (int i = 0; i < 12; i++) {
      resources.add(
          Resource.parse(
              ResourceType.UPSTREAMS,
              "u" + i,
              json(
                  "{'tpye':'chash','nodes':{'a:80':1},'timeout':{'connect':1,'send':1,'read':1,'x':1}}"),
              ParseMode.TOLERANT));
    }

    assertThat(IgnoredFields.describe(resources.subList(0, 1))).isEmpty();
    assertThat(IgnoredFields.describe(resources.subList(0, 2)))
        .hasValue("upstream 'u0': tpye, timeout.x");
    assertThat(IgnoredFields.describe(resources).orElseThrow())
        .startsWith("upstream 'u0': tpye, timeout.x; upstream 'u1': ")
        .endsWith("upstream 'u9': tpye, timeout.x; and 2 more resources");
  }
}
