package dev.soma.op;

/** Element types Soma computes in. Every op is defined for both. */
public enum DType {
    F32(4, "float32"),
    F64(8, "float64");

    private final int byteSize;
    private final String numpyName;

    DType(int byteSize, String numpyName) {
        this.byteSize = byteSize;
        this.numpyName = numpyName;
    }

    /** Bytes per element. */
    public int byteSize() {
        return byteSize;
    }

    /** The name NumPy and PyTorch use for this type ("float32", "float64"). */
    public String numpyName() {
        return numpyName;
    }
}
