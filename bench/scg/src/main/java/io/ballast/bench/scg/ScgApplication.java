package io.ballast.bench.scg;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;

/** Spring Cloud Gateway with one route, configured in application.yaml, for bench/proxy.sh. */
@SpringBootApplication
public class ScgApplication {

  public static void main(String[] args) {
    SpringApplication.run(ScgApplication.class, args);
  }
}
