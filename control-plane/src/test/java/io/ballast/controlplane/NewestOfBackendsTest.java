package io.ballast.controlplane;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ballast.controlplane.StorageExports.ExportPointer;
import io.ballast.resource.ResourceSet;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class NewestOfBackendsTest {

  /** A backend whose newest export is fixed, or that cannot be read. */
  private record Backend(Optional<ExportPointer> newest, ResourceSet resources, String down)
      implements StorageExports {

    static Backend at(String lineage, long version) {
      return new Backend(
          Optional.of(new ExportPointer(lineage, version)), ResourceSet.empty(), null);
    }

    static Backend down(String why) {
      return new Backend(Optional.empty(), null, why);
    }

    @Override
    public Optional<ExportPointer> newest() {
      if (down != null) {
        throw new IllegalStateException(down);
      }
      return newest;
    }

    @Override
    public ResourceSet resources(ExportPointer pointer) {
      newest();
      return resources;
    }
  }

  @Test
  void theNewestIsTheHighestVersionAnyBackendNamesAndItsResourcesComeFromThatBackend() {
    Backend older = Backend.at("L", 4);
    Backend newer = Backend.at("L", 7);

    NewestOfBackends storage = new NewestOfBackends(List.of(older, newer));

    assertThat(storage.newest()).contains(new ExportPointer("L", 7));
    assertThat(storage.resources(new ExportPointer("L", 7))).isSameAs(newer.resources());
  }

  @Test
  void aBackendThatCannotBeReadIsLeftOutWhileAnotherAnswers() {
    NewestOfBackends storage =
        new NewestOfBackends(List.of(Backend.down("s3: connection refused"), Backend.at("L", 3)));

    assertThat(storage.newest()).contains(new ExportPointer("L", 3));
  }

  @Test
  void storageIsUnreadableOnlyWhenNoBackendAnswersAndTheErrorNamesEach() {
    NewestOfBackends storage =
        new NewestOfBackends(
            List.of(Backend.down("s3: connection refused"), Backend.down("azure: 403")));

    assertThatThrownBy(storage::newest)
        .hasMessageContaining("s3: connection refused")
        .hasMessageContaining("azure: 403");
  }

  @Test
  void emptyBackendsAndAnswersMeanNoExport() {
    NewestOfBackends storage =
        new NewestOfBackends(
            List.of(new Backend(Optional.empty(), null, null), Backend.down("down")));

    assertThat(storage.newest()).isEmpty();
  }
}
