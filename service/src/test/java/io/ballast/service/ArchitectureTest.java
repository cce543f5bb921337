package io.ballast.service;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.Architectures.layeredArchitecture;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.Location;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The map of docs/architecture.md, checked against the compiled main classes of every module. Maven
 * already keeps the modules from depending on each other in a circle; these rules also hold inside
 * each module: no package cycles anywhere, and each package depends only in the directions the map
 * draws.
 */
class ArchitectureTest {

  private static JavaClasses classes;

  @BeforeAll
  static void importMainClasses() {
    classes =
        new ClassFileImporter()
            .withImportOption(ArchitectureTest::isMainCode)
            .importPackages("io.ballast");
  }

  /** Main classes only: not test classes, test-jars or the test servers' kit. */
  private static boolean isMainCode(Location location) {
    return !location.contains("/test-classes/")
        && !location.contains("-tests.jar")
        && !location.contains("/io/ballast/testkit/");
  }

  @Test
  void noPackageDependsOnItselfThroughOthers() {
    slices().matching("io.ballast.(**)").should().beFreeOfCycles().check(classes);
  }

  @Test
  void modulesDependOneWay() {
    layeredArchitecture()
        .consideringOnlyDependenciesInLayers()
        .layer("core")
        .definedBy(
            "io.ballast.config..",
            "io.ballast.fs..",
            "io.ballast.resource..",
            "io.ballast.seal..",
            "io.ballast.snapshot..",
            "io.ballast.storage..")
        .layer("gateway")
        .definedBy("io.ballast.gateway..")
        .layer("control-plane")
        .definedBy("io.ballast.controlplane..")
        .layer("data-plane")
        .definedBy("io.ballast.dataplane..")
        .layer("service")
        .definedBy("io.ballast.service..")
        .whereLayer("service")
        .mayNotBeAccessedByAnyLayer()
        .whereLayer("control-plane")
        .mayOnlyBeAccessedByLayers("service")
        .whereLayer("data-plane")
        .mayOnlyBeAccessedByLayers("service")
        .whereLayer("gateway")
        .mayOnlyBeAccessedByLayers("control-plane", "data-plane", "service")
        .check(classes);
  }

  @Test
  void gatewayPackagesBuildOnTheRequestTypes() {
    layeredArchitecture()
        .consideringOnlyDependenciesInLayers()
        .layer("http")
        .definedBy("io.ballast.gateway.http..")
        .layer("upstream")
        .definedBy("io.ballast.gateway.upstream..")
        .layer("health")
        .definedBy("io.ballast.gateway.health..")
        .layer("tls")
        .definedBy("io.ballast.gateway.tls..")
        .layer("plugin")
        .definedBy("io.ballast.gateway.plugin..")
        .layer("route")
        .definedBy("io.ballast.gateway.route..")
        .layer("proxy")
        .definedBy("io.ballast.gateway.proxy..")
        .whereLayer("proxy")
        .mayNotBeAccessedByAnyLayer()
        .whereLayer("route")
        .mayOnlyBeAccessedByLayers("proxy")
        .whereLayer("plugin")
        .mayOnlyBeAccessedByLayers("route", "proxy")
        .whereLayer("tls")
        .mayOnlyBeAccessedByLayers("route", "proxy")
        .whereLayer("health")
        .mayOnlyBeAccessedByLayers("proxy")
        .whereLayer("upstream")
        .mayOnlyBeAccessedByLayers("health", "route", "proxy")
        .check(classes);
  }

  @Test
  void controlPlaneBuildsOnItsStore() {
    noClasses()
        .that()
        .resideInAPackage("io.ballast.controlplane.store..")
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage("io.ballast.controlplane", "io.ballast.controlplane.admin..")
        .check(classes);
  }

  @Test
  void theStorageSpiKnowsNothingOfSnapshotsOrResources() {
    noClasses()
        .that()
        .resideInAPackage("io.ballast.storage..")
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage("io.ballast.snapshot..", "io.ballast.resource..")
        .check(classes);
  }

  @Test
  void storageBackendsAreFoundOnlyThroughTheServiceLoader() {
    for (String backend : List.of("s3", "minio", "azure")) {
      String backendPackage = "io.ballast.storage." + backend + "..";
      noClasses()
          .that()
          .resideOutsideOfPackage(backendPackage)
          .should()
          .dependOnClassesThat()
          .resideInAPackage(backendPackage)
          .check(classes);
    }
  }

  @Test
  void onlyTheControlPlaneAndTheServiceUseSpring() {
    noClasses()
        .that()
        .resideInAnyPackage(
            "io.ballast.config..",
            "io.ballast.fs..",
            "io.ballast.resource..",
            "io.ballast.seal..",
            "io.ballast.snapshot..",
            "io.ballast.storage..",
            "io.ballast.gateway..",
            "io.ballast.dataplane..")
        .should()
        .dependOnClassesThat()
        .resideInAPackage("org.springframework..")
        .check(classes);
  }
}
