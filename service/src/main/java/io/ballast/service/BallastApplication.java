package io.ballast.service;

import io.ballast.config.ConfigException;
import io.ballast.config.ConfigLoader;
import io.ballast.config.ConfigNode;
import io.ballast.service.config.NodeConfig;
import java.net.InetAddress;
import java.nio.file.Path;
import java.util.Map;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.WebApplicationType;
import org.springframework.context.annotation.Bean;

/**
 * {@code java -jar ballast.jar [-c conf/config.yaml]}. The file is read and checked before anything
 * starts, so a bad file ends the process with one line naming the file, the key path and the
 * problem (exit code 2). Spring Boot runs the node's lifecycle and logging; no auto-configured web
 * server: the node binds its own ports (see {@link io.ballast.service.HttpEndpoints}).
 */
@SpringBootConfiguration(proxyBeanMethods = false)
public class BallastApplication {

  public static void main(String[] args) {
    Path file = Path.of("conf/config.yaml");
    for (int i = 0; i < args.length; i++) {
      if ((args[i].equals("-c") || args[i].equals("--config")) && i + 1 < args.length) {
        file = Path.of(args[++i]);
      } else {
        System.err.println("usage: java -jar ballast.jar [-c conf/config.yaml]");
        System.exit(2);
      }
    }
    ConfigNode root;
    NodeConfig config;
    try {
      root = ConfigLoader.load(file);
      config = NodeConfig.parse(root, hostName());
    } catch (ConfigException e) {
      System.err.println("ballast: configuration error: " + e.getMessage());
      System.exit(2);
      return;
    }

    SpringApplication app = new SpringApplication(BallastApplication.class);
    app.setWebApplicationType(WebApplicationType.NONE);
    app.setDefaultProperties(
        Map.of("spring.main.keep-alive", "true", "spring.main.banner-mode", "off"));
    app.addInitializers(
        context -> {
          context.getBeanFactory().registerSingleton("nodeConfig", config);
          context.getBeanFactory().registerSingleton("configRoot", root);
        });
    try {
      app.run();
    } catch (RuntimeException e) {
      Throwable cause = e;
      while (cause.getCause() != null) {
        cause = cause.getCause();
      }
      String prefix = cause instanceof ConfigException ? "configuration error" : "cannot start";
      System.err.println("ballast: " + prefix + ": " + cause.getMessage());
      System.exit(cause instanceof ConfigException ? 2 : 1);
    }
  }

  @Bean(destroyMethod = "close")
  Node node(NodeConfig nodeConfig, ConfigNode configRoot) {
    return Node.start(nodeConfig, configRoot);
  }

  private static String hostName() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (Exception e) {
      return "localhost";
    }
  }
}
