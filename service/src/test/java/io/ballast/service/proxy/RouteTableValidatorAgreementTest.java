package io.ballast.service.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.ballast.resource.InvalidResourceException;
import io.ballast.resource.Resource;
import io.ballast.resource.ResourceType;
import io.ballast.resource.ResourceValidator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The Admin API's validator (core) and the data plane's compiler (this package) check {@code vars}
 * and {@code remote_addrs} separately; they must refuse exactly the same routes, at the same field.
 */
class RouteTableValidatorAgreementTest {

  private static final JsonMapper JSON = JsonMapper.builder().build();

  private static final List<String> ADDRESSES =
      List.of(
          "10.0.0.1",
          "10.0.0.0/8",
          "0.0.0.0/0",
          "10.0.0.0/33",
          "10.0.0.1/",
          "10.0.0.1/-1",
          "1.2.3",
          "1.2.3.4.5",
          "256.1.1.1",
          "01.2.3.4",
          "1.2.3.4/08",
          "1.2.3.4 ",
          "localhost",
          "example.com",
          "",
          "::",
          "::1",
          "::1/128",
          "::1/129",
          "fe80::/16",
          "fe80:::1",
          "[::1]",
          "::ffff:10.0.0.1",
          "::ffff:10.0.0.0/96",
          "::ffff:10.0.0.0/95",
          "::ffff:10.0.0.0/129",
          "2001:db8::1/64",
          "g::1");

  private static final Object[] VARS = {
    "arg_a",
    "http_x_api_key",
    "cookie_c",
    "uri",
    "host",
    "remote_addr",
    "request_method",
    "server_port",
    "arg_",
    "http_",
    "cookie_",
    1,
    "OR",
    "!and"
  };
  private static final Object[] OPERATORS = {
    "==", "~=", ">", ">=", "<", "<=", "~~", "~*", "in", "has", "IN", "Has", "!", "===", "like", 3,
    null
  };
  private static final Object[] VALUES = {
    "x",
    "5",
    " 0x1F ",
    "-0x7fffffffffffffff",
    "0x10000000000000000",
    "1e3",
    ".5",
    "5.",
    "ten",
    "(",
    "^a+$",
    "[a-",
    5,
    1.5,
    true,
    null,
    List.of("a", 1),
    List.of(),
    Map.of()
  };

  @Test
  void remoteAddrsAgree() {
    for (String address : ADDRESSES) {
      ObjectNode route = route();
      route.putArray("remote_addrs").add(address);
      assertAgree(route);
      ObjectNode single = route();
      single.put("remote_addr", address);
      assertAgree(single);
    }
  }

  @Test
  void randomVarsAgree() {
    Random random = new Random(4L);
    int refused = 0;
    for (int n = 0; n < 3000; n++) {
      ObjectNode route = route();
      ArrayNode vars = route.putArray("vars");
      int expressions = 1 + random.nextInt(2);
      for (int e = 0; e < expressions; e++) {
        ArrayNode expression = vars.addArray();
        int size = random.nextInt(8) == 0 ? random.nextInt(6) : 3 + random.nextInt(2);
        boolean bang = size == 4 && random.nextInt(5) > 0;
        for (int i = 0; i < size; i++) {
          Object[] pool =
              i == 0
                  ? VARS
                  : i == 1 && bang ? new Object[] {"!"} : i == size - 1 ? VALUES : OPERATORS;
          // Mostly known variables, so that operators and values get checked too.
          int pick =
              pool == VARS && random.nextInt(3) > 0
                  ? random.nextInt(7)
                  : random.nextInt(pool.length);
          expression.add(JSON.valueToTree(pool[pick]));
        }
      }
      if (assertAgree(route)) {
        refused++;
      }
    }
    // Both outcomes must be common, or the corpus tests little.
    assertThat(refused).isBetween(300, 2700);
  }

  @Test
  void otherShapesAgree() {
    for (String vars :
        List.of("{}", "'x'", "[]", "null", "[[]]", "[null]", "[['OR', ['arg_a', '==', 'x']]]")) {
      ObjectNode route = route();
      route.set("vars", JSON.readTree(vars.replace('\'', '"')));
      assertAgree(route);
    }
    for (String addrs : List.of("[]", "'10.0.0.1'", "[1]", "null", "{}")) {
      ObjectNode route = route();
      route.set("remote_addrs", JSON.readTree(addrs.replace('\'', '"')));
      assertAgree(route);
    }
    ObjectNode both = route();
    both.put("remote_addr", "::1");
    both.putArray("remote_addrs").add("::1");
    assertAgree(both);
  }

  private static ObjectNode route() {
    ObjectNode route = JSON.createObjectNode();
    route.put("uri", "/a/:id");
    route.put("upstream_id", "1");
    return route;
  }

  /** Returns whether both refused. */
  private static boolean assertAgree(ObjectNode route) {
    String validatorField = validatorRefusal(route);
    String compilerField = compilerRefusal(route);
    assertThat(compilerField)
        .as("field the data plane refuses in %s", route)
        .isEqualTo(validatorField);
    return validatorField != null;
  }

  /** The field the validator refuses, or null when it accepts. */
  private static String validatorRefusal(JsonNode route) {
    try {
      ResourceValidator.validate(ResourceType.ROUTES, "r1", route);
      return null;
    } catch (InvalidResourceException e) {
      return e.field();
    }
  }

  private static String compilerRefusal(ObjectNode route) {
    try {
      ObjectNode value = route.deepCopy();
      value.put("id", "r1");
      RouteTable.compile(
          List.of(new Resource(ResourceType.ROUTES, "r1", value)), Map.of(), Map.of());
      return null;
    } catch (IllegalArgumentException e) {
      String prefix = "route 'r1': ";
      assertThat(e.getMessage()).startsWith(prefix);
      String rest = e.getMessage().substring(prefix.length());
      return rest.substring(0, rest.indexOf(": "));
    }
  }
}
