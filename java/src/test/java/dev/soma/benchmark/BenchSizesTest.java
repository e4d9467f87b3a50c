package dev.soma.benchmark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class BenchSizesTest {

    @Test
    void acceptsCountsPowersAndBinarySuffixes() {
        assertEquals(List.of(4096L, 4096L, 65536L, 1L << 20, 3L << 30, 1L),
                Sizes.parseList("--sizes", "4096, 2^12,64K,1M,3G,1"));
    }

    @Test
    void refusesWithTheOptionAndTheForms() {
        for (String bad : new String[] {"0", "-4", "abc", "3^4", "2^", "2^99", "", "1.5M", "99999999999999999999"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Sizes.parse("--rows", bad),
                    bad);
            assertTrue(e.getMessage().startsWith("--rows: '" + bad + "'"), e.getMessage());
        }
    }
}
