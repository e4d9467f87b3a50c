package dev.soma.backend.cuda;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads the entry table of an NVIDIA fatbin container (what cuobjdump --list-elf/--list-ptx shows),
 * so tests can check which architectures the build embedded without cuobjdump. Layout, as nvcc 13
 * writes it (little-endian): a 16-byte header (magic 0xBA55ED50, version, header size, payload
 * size), then entries, each a header (kind: 1 PTX, 2 ELF; header size; payload size; ...; the SM
 * number at byte 28) followed by its payload. ELF payloads are checked further: EM_CUDA, and the SM
 * number in e_flags bits 8..15 must agree with the entry's.
 */
final class FatbinContainer {
    static final int MAGIC = 0xBA55ED50;
    static final int KIND_PTX = 1;
    static final int KIND_ELF = 2;
    static final int EM_CUDA = 190;

    /** One embedded image: PTX or a cubin for one SM. */
    record Entry(int kind, int arch, long offset, long size, int elfArch) {
        boolean isElf() {
            return kind == KIND_ELF;
        }
    }

    private FatbinContainer() {
    }

    static List<Entry> entries(byte[] fatbin) {
        ByteBuffer b = ByteBuffer.wrap(fatbin).order(ByteOrder.LITTLE_ENDIAN);
        if (fatbin.length < 16 || b.getInt(0) != MAGIC) {
            throw new IllegalArgumentException("not a fatbin: bad magic");
        }
        int headerSize = Short.toUnsignedInt(b.getShort(6));
        long payload = b.getLong(8);
        if (headerSize + payload > fatbin.length) {
            throw new IllegalArgumentException("fatbin truncated: header says " + (headerSize + payload)
                    + " bytes, file has " + fatbin.length);
        }
        List<Entry> out = new ArrayList<>();
        long off = headerSize;
        while (off < headerSize + payload) {
            int at = Math.toIntExact(off);
            int kind = Short.toUnsignedInt(b.getShort(at));
            int entryHeader = b.getInt(at + 4);
            long size = b.getLong(at + 8);
            int arch = b.getInt(at + 28);
            long data = off + entryHeader;
            if (entryHeader < 32 || data + size > fatbin.length) {
                throw new IllegalArgumentException("fatbin entry at " + off + " is malformed");
            }
            int elfArch = -1;
            if (kind == KIND_ELF) {
                int p = Math.toIntExact(data);
                if (b.get(p) != 0x7f || b.get(p + 1) != 'E' || b.get(p + 2) != 'L' || b.get(p + 3) != 'F') {
                    throw new IllegalArgumentException("ELF entry for sm_" + arch + " is compressed or not ELF");
                }
                if (Short.toUnsignedInt(b.getShort(p + 18)) != EM_CUDA) {
                    throw new IllegalArgumentException("ELF entry for sm_" + arch + " is not EM_CUDA");
                }
                elfArch = (b.getInt(p + 48) >>> 8) & 0xff;
            }
            out.add(new Entry(kind, arch, data, size, elfArch));
            off = data + size;
        }
        return out;
    }
}
