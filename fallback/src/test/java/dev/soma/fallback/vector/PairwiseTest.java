package dev.soma.fallback.vector;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.math.BigDecimal;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The running pairwise sum: exact on integers, near the exact sum on random doubles, past its first 8 levels. */
class PairwiseTest {
    @ParameterizedTest
    @ValueSource(ints = {0, 1, 2, 255, 256, 257, 511, 512, 100_000})
    void sumsIntegersExactly(int n) {
        Pairwise p = new Pairwise();
        for (int i = 1; i <= n; i++) {
            p.add(i);
        }
        assertEquals((double) n * (n + 1) / 2, p.sum());
    }

    @ParameterizedTest
    @ValueSource(ints = {255, 256, 257, 1 << 16, 1 << 20})
    void randomSumsStayNearTheExactSum(int n) {
        SplittableRandom rnd = new SplittableRandom(n);
        double[] values = new double[n];
        BigDecimal exact = BigDecimal.ZERO;
        Pairwise p = new Pairwise();
        for (int i = 0; i < n; i++) {
            values[i] = rnd.nextDouble(-1, 1) * Math.pow(2, rnd.nextInt(-20, 20));
            exact = exact.add(new BigDecimal(values[i]));
            p.add(values[i]);
        }
        double magnitude = 0;
        for (double v : values) {
            magnitude += Math.abs(v);
        }
        // Pairwise: error under about log2(n) roundings of the magnitude (a serial sum: n).
        double bound = 2 * Math.ceil(Math.log(n) / Math.log(2)) * Math.ulp(magnitude);
        assertEquals(exact.doubleValue(), p.sum(), bound);
        assertEquals(p.sum(), Pairwise.of(values));
    }
}
