package dev.soma.op;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

class OpCatalogueTest {

    @Test
    void catalogueHoldsExactlyTheEighteenOpsOfTheSemanticsPage() {
        List<String> ids = Arrays.stream(Op.values()).map(Op::id).toList();
        assertEquals(List.of("sigmoid", "tanh", "relu", "leaky_relu", "prelu", "elu", "celu", "selu", "gelu",
                "gelu_tanh", "silu", "softplus", "mish", "relu6", "hardsigmoid", "hardswish", "softmax",
                "log_softmax"), ids);
    }

    @ParameterizedTest
    @EnumSource(Op.class)
    void everyOpIsFoundByItsNameInAnyCase(Op op) {
        assertEquals(op, Op.byId(op.id()));
        assertEquals(op, Op.byId(op.id().toUpperCase(java.util.Locale.ROOT).replace('_', '-')));
    }

    @Test
    void unknownNameListsTheKnownOnes() {
        var e = assertThrows(IllegalArgumentException.class, () -> Op.byId("swish"));
        assertTrue(e.getMessage().contains("unknown op 'swish'"), e.getMessage());
        assertTrue(e.getMessage().contains("hardswish"), e.getMessage());
    }

    @Test
    void defaultsArePyTorchs() {
        assertEquals(0.01, OpArgs.of(Op.LEAKY_RELU).alpha());
        assertEquals(1.0, OpArgs.of(Op.ELU).alpha());
        assertEquals(1.0, OpArgs.of(Op.CELU).alpha());
        assertEquals(1.0, OpArgs.of(Op.SOFTPLUS).beta());
        assertEquals(20.0, OpArgs.of(Op.SOFTPLUS).threshold());
        assertEquals(-1, OpArgs.of(Op.SOFTMAX).axis());
        assertFalse(OpArgs.of(Op.LOG_SOFTMAX).safe());
        assertEquals(1.0507009873554805, Op.SELU_SCALE, 0.0);
        assertEquals(1.6732632423543772, Op.SELU_ALPHA, 0.0);
    }

    @Test
    void familiesDriveDispatch() {
        assertEquals(Family.CHANNEL_WEIGHTED, Op.PRELU.family());
        assertEquals(Family.ROW_REDUCTION, Op.SOFTMAX.family());
        assertEquals(Family.ROW_REDUCTION, Op.LOG_SOFTMAX.family());
        assertEquals(15, Arrays.stream(Op.values()).filter(o -> o.family() == Family.ELEMENTWISE).count());
    }

    @ParameterizedTest
    @CsvSource({"NaN", "Infinity", "-Infinity"})
    void nonFiniteAlphaIsRefusedWithItsName(double a) {
        var e = assertThrows(IllegalArgumentException.class, () -> OpArgs.of(Op.ELU).withAlpha(a));
        assertTrue(e.getMessage().startsWith("elu: alpha must be finite"), e.getMessage());
    }

    @Test
    void alphaAtItsEdgesIsAccepted() {
        assertEquals(0.0, OpArgs.of(Op.LEAKY_RELU).withAlpha(0).alpha());
        assertEquals(-0.5, OpArgs.of(Op.ELU).withAlpha(-0.5).alpha());
        assertEquals(-2.0, OpArgs.of(Op.CELU).withAlpha(-2).alpha());
    }

    @Test
    void celuRefusesZeroAlpha() {
        var e = assertThrows(IllegalArgumentException.class, () -> OpArgs.of(Op.CELU).withAlpha(0));
        assertTrue(e.getMessage().contains("celu: alpha must be non-zero"), e.getMessage());
    }

    @ParameterizedTest
    @CsvSource({"0", "-1", "NaN", "Infinity"})
    void softplusBetaMustBePositiveAndFinite(double b) {
        var e = assertThrows(IllegalArgumentException.class, () -> OpArgs.of(Op.SOFTPLUS).withBeta(b));
        assertTrue(e.getMessage().contains("beta must be finite and > 0"), e.getMessage());
    }

    @Test
    void softplusThresholdMustBeFinite() {
        assertThrows(IllegalArgumentException.class, () -> OpArgs.of(Op.SOFTPLUS).withThreshold(Double.NaN));
        assertEquals(-3.0, OpArgs.of(Op.SOFTPLUS).withThreshold(-3).threshold());
    }

    @Test
    void parametersAnOpDoesNotTakeAreRefused() {
        var e = assertThrows(IllegalArgumentException.class, () -> OpArgs.of(Op.SIGMOID).withAlpha(0.1));
        assertTrue(e.getMessage().startsWith("sigmoid takes no alpha parameter"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> OpArgs.of(Op.RELU).withAxis(0));
        assertThrows(IllegalArgumentException.class, () -> OpArgs.of(Op.GELU).withSafe(true));
    }

    @Test
    void nullOpIsRefused() {
        var e = assertThrows(NullPointerException.class, () -> OpArgs.of(null));
        assertTrue(e.getMessage().startsWith("op is null; pass one of sigmoid"), e.getMessage());
    }

    @ParameterizedTest
    @CsvSource({"-1,3,2", "-3,3,0", "0,3,0", "2,3,2", "0,0,0", "-1,0,0"})
    void axesResolveLikePyTorch(int axis, int rank, int expected) {
        assertEquals(expected, OpArgs.of(Op.SOFTMAX).withAxis(axis).resolveAxis(rank));
    }

    @ParameterizedTest
    @CsvSource({"3,3", "-4,3", "1,0", "-2,0"})
    void axesOutOfRangeNameTheValidRange(int axis, int rank) {
        var e = assertThrows(IllegalArgumentException.class,
                () -> OpArgs.of(Op.LOG_SOFTMAX).withAxis(axis).resolveAxis(rank));
        assertTrue(e.getMessage().contains("axis " + axis + " is out of range"), e.getMessage());
    }
}
