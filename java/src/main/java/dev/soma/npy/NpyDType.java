package dev.soma.npy;

import dev.soma.op.DType;
import java.nio.ByteOrder;

/**
 * A .npy {@code descr} string that Soma reads: float32 or float64 in either byte order.
 * Every other descr is refused with its NumPy name, so the user knows what to convert.
 *
 * @param dtype the element type
 * @param order the byte order of the elements in the file
 */
public record NpyDType(DType dtype, ByteOrder order) {

    /** The descr NumPy writes for this type, e.g. {@code "<f4"}. */
    public String descr() {
        return (order == ByteOrder.LITTLE_ENDIAN ? "<" : ">") + (dtype == DType.F32 ? "f4" : "f8");
    }

    /**
     * Parses a simple descr such as {@code "<f4"} or {@code ">f8"}.
     *
     * @param file  the file name, for the message
     * @throws NpyFormatException naming the dtype when it is not float32 or float64
     */
    public static NpyDType parse(String file, String descr) throws NpyFormatException {
        if (descr.length() >= 2) {
            char o = descr.charAt(0);
            String body = descr.substring(1);
            ByteOrder order = switch (o) {
                case '<' -> ByteOrder.LITTLE_ENDIAN;
                case '>' -> ByteOrder.BIG_ENDIAN;
                case '=' -> ByteOrder.nativeOrder();
                default -> null;
            };
            if (order != null) {
                if (body.equals("f4")) {
                    return new NpyDType(DType.F32, order);
                }
                if (body.equals("f8")) {
                    return new NpyDType(DType.F64, order);
                }
            }
        }
        throw unsupported(file, PyLiteralParser.repr(descr) + describe(descr));
    }

    /** The refusal for a dtype Soma does not read, with NumPy's name for it when known. */
    static NpyFormatException unsupported(String file, String what) {
        return new NpyFormatException(file + ": dtype " + what
                + " is not supported; Soma reads float32 and float64 (convert with arr.astype(np.float32))");
    }

    /** " (int64)" for a descr NumPy would name, else "". */
    static String describe(String descr) {
        String body = descr.isEmpty() ? descr : descr.substring(descr.charAt(0) == '<' || descr.charAt(0) == '>'
                || descr.charAt(0) == '|' || descr.charAt(0) == '=' ? 1 : 0);
        if (body.isEmpty()) {
            return "";
        }
        char kind = body.charAt(0);
        String size = body.substring(1);
        int bytes;
        try {
            bytes = size.isEmpty() ? -1 : Integer.parseInt(size);
        } catch (NumberFormatException e) {
            bytes = -1;
        }
        String name = switch (kind) {
            case 'b' -> "bool";
            case 'i' -> bytes > 0 ? "int" + bytes * 8 : null;
            case 'u' -> bytes > 0 ? "uint" + bytes * 8 : null;
            case 'f' -> bytes > 0 ? "float" + bytes * 8 : null;
            case 'c' -> bytes > 0 ? "complex" + bytes * 8 : null;
            case 'O' -> "object: Python objects, a pickle";
            case 'S' -> "bytes";
            case 'U' -> "str";
            case 'V' -> "void";
            case 'M' -> "datetime64";
            case 'm' -> "timedelta64";
            default -> null;
        };
        return name == null ? "" : " (" + name + ")";
    }
}
