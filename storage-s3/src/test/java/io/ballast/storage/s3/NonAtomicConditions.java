package io.ballast.storage.s3;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.util.List;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Leaves out the contract's concurrent conditional-write races that test the server, not the
 * client: the client sends the same If-Match or If-None-Match header either way, and a local test
 * server that checks the condition before writing, not atomically with it, lets several writers
 * win. Each use names the cases and what was measured. The races run in full against MinIO ({@link
 * MinioContainerContractTest}) where Docker is available.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.TYPE)
@ExtendWith(NonAtomicConditions.Condition.class)
@interface NonAtomicConditions {

  String IF_MATCH_RACE = "ofConcurrentIfMatchWritersExactlyOneWins";
  String IF_ABSENT_RACE = "ofConcurrentIfAbsentCreatorsExactlyOneWins";

  /** The contract test methods to leave out. */
  String[] value();

  /** What was measured on this server. */
  String measured();

  final class Condition implements ExecutionCondition {

    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
      NonAtomicConditions races =
          context.getRequiredTestClass().getAnnotation(NonAtomicConditions.class);
      String method = context.getTestMethod().map(m -> m.getName()).orElse("");
      if (races != null && List.of(races.value()).contains(method)) {
        return ConditionEvaluationResult.disabled(
            "the server does not check the condition atomically with the write: "
                + races.measured());
      }
      return ConditionEvaluationResult.enabled("not a race this server loses");
    }
  }
}
