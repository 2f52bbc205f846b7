package org.stasis.api;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.LinkedHashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;

class RestartPlanRewriteTest {
    /** Only what rewrite() reads. */
    private static RestartPlan withRules(Map<String, String> rules) {
        return new RestartPlan() {
            @Override
            public ProcessPlan process(int pid) {
                throw new UnsupportedOperationException();
            }

            @Override
            public void rewritePath(String from, String to) {
                rules.put(from, to);
            }

            @Override
            public Map<String, String> pathRewrites() {
                return rules;
            }

            @Override
            public void setEnvironment(String name, String value) {
            }

            @Override
            public Map<String, String> environment() {
                return Map.of();
            }

            @Override
            public void redirect(java.nio.file.Path from, java.nio.file.Path to) {
            }

            @Override
            public Map<java.nio.file.Path, java.nio.file.Path> redirects() {
                return Map.of();
            }

            @Override
            public PidStrategy pidStrategy() {
                return PidStrategy.KEEP_PIDS;
            }

            @Override
            public void pidStrategy(PidStrategy strategy) {
            }
        };
    }

    @Test
    void rulesApplyToWholePathComponentsOnly() {
        RestartPlan plan = withRules(new LinkedHashMap<>(Map.of("/home/a", "/mnt/b")));
        assertEquals("/mnt/b/x.log", plan.rewrite("/home/a/x.log"));
        assertEquals("/mnt/b", plan.rewrite("/home/a"));
        assertEquals("/home/ab/x.log", plan.rewrite("/home/ab/x.log"));
    }

    @Test
    void aRewriteIsAppliedOnceEvenWhenItsResultMatchesAgain() {
        RestartPlan plan = withRules(new LinkedHashMap<>(Map.of("/data", "/data/moved")));
        assertEquals("/data/moved/f", plan.rewrite("/data/f"));
    }
}
