package dev.soma.backend.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import dev.soma.op.Op;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The op codes in soma_math.h (the header the OpenCL and CUDA kernels share) are the
 * {@link Op#ordinal()} values Java passes to the kernels: every op has its define, with its
 * ordinal, and nothing else is defined. Needs no device.
 */
class OpenClOpCodesTest {

    @Test
    void headerOpCodesMatchTheOpEnum() {
        String header = OpenClSources.read("soma_math.h");
        Matcher m = Pattern.compile("(?m)^#define\\s+SOMA_OP_(\\w+)\\s+(\\d+)\\s*$").matcher(header);
        Map<String, Integer> codes = new LinkedHashMap<>();
        while (m.find()) {
            codes.put(m.group(1), Integer.parseInt(m.group(2)));
        }
        assertEquals(Op.values().length, codes.remove("COUNT"), "SOMA_OP_COUNT");
        for (Op op : Op.values()) {
            Integer code = codes.remove(op.name());
            assertNotNull(code, "soma_math.h has no SOMA_OP_" + op.name());
            assertEquals(op.ordinal(), code, "SOMA_OP_" + op.name() + " differs from Op." + op.name() + ".ordinal()");
        }
        assertEquals(Map.of(), codes, "soma_math.h defines op codes Op does not have");
    }
}
