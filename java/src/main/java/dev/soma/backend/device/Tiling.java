package dev.soma.backend.device;

import java.lang.foreign.MemorySegment;

/**
 * Which elements of a tensor each streamed chunk holds, and how they move between the tensor and
 * a chunk's contiguous staging buffer. {@link #CONTIGUOUS}: chunk c is one range of the flat
 * tensor. {@link #columns}: for a softmax along an inner axis whose one outer slice is larger
 * than the budget, chunk c holds whole columns (every position along the axis) for a block of
 * inner positions of one outer slice, gathered into a {@code (1, mid, k)} block, so each column
 * of the chunk is a whole softmax row and the device runs the same row kernels on it.
 */
interface Tiling {
    /** Chunk c = elements {@code [c * chunk, c * chunk + count)}. */
    Tiling CONTIGUOUS = (chunkElements, total) -> new Plan() {
        @Override
        public long chunkElements() {
            return chunkElements;
        }

        @Override
        public long chunks() {
            return (total + chunkElements - 1) / chunkElements;
        }

        @Override
        public long count(long c) {
            return Math.min(chunkElements, total - c * chunkElements);
        }

        @Override
        public void gather(MemorySegment src, long c, MemorySegment staging, int es) {
            MemorySegment.copy(src, c * chunkElements * es, staging, 0, count(c) * es);
        }

        @Override
        public void scatter(MemorySegment staging, long c, MemorySegment dst, int es) {
            MemorySegment.copy(staging, 0, dst, c * chunkElements * es, count(c) * es);
        }
    };

    /** The plan for chunks of at most {@code chunkElements} (a whole number of units) of a {@code total}-element tensor. */
    Plan plan(long chunkElements, long total);

    /** Columns of an {@code (outer, mid, inner)} layout, blocks of inner positions per chunk (unit: {@code mid}). */
    static Tiling columns(long outer, long mid, long inner) {
        return (chunkElements, total) -> {
            long k = Math.max(1, Math.min(inner, chunkElements / mid));
            long blocks = (inner + k - 1) / k;
            return new Plan() {
                @Override
                public long chunkElements() {
                    return k * mid;
                }

                @Override
                public long chunks() {
                    return outer * blocks;
                }

                @Override
                public long count(long c) {
                    return mid * width(c);
                }

                private long width(long c) {
                    long j0 = (c % blocks) * k;
                    return Math.min(k, inner - j0);
                }

                @Override
                public void gather(MemorySegment src, long c, MemorySegment staging, int es) {
                    move(c, es, (tensorOffset, stagingOffset, bytes) ->
                            MemorySegment.copy(src, tensorOffset, staging, stagingOffset, bytes));
                }

                @Override
                public void scatter(MemorySegment staging, long c, MemorySegment dst, int es) {
                    move(c, es, (tensorOffset, stagingOffset, bytes) ->
                            MemorySegment.copy(staging, stagingOffset, dst, tensorOffset, bytes));
                }

                /** One run of {@code width} contiguous elements per position along the axis. */
                private void move(long c, int es, Run run) {
                    long o = c / blocks;
                    long j0 = (c % blocks) * k;
                    long w = width(c);
                    for (long m = 0; m < mid; m++) {
                        run.copy(((o * mid + m) * inner + j0) * es, m * w * es, w * es);
                    }
                }
            };
        };
    }

    /**
     * Blocks of whole channels of one outer slice of a PReLU {@code (outer, C, inner)} layout
     * (unit: {@code inner}, one channel): chunk c is channels {@link #firstChannel}{@code (c)} on of
     * outer slice {@code c / blocks}, a contiguous range that never crosses an outer slice.
     * {@link #plan} fixes the block size; the chunk-to-channel methods are valid after it.
     */
    final class ChannelBlocks implements Tiling {
        private final long outer;
        private final long channels;
        private final long inner;
        private final long maxPerBlock;
        private final java.util.function.LongConsumer onPlan;
        private long perBlock = 1;
        private long blocks = 1;

        /**
         * @param maxPerBlock the most channels one chunk may hold (the size of a per-chunk side buffer)
         * @param onPlan      told the channels per block when the plan is made, before any chunk (may be null)
         */
        ChannelBlocks(long outer, long channels, long inner, long maxPerBlock, java.util.function.LongConsumer onPlan) {
            this.outer = outer;
            this.channels = channels;
            this.inner = inner;
            this.maxPerBlock = Math.max(1, maxPerBlock);
            this.onPlan = onPlan;
        }

        /** The first channel of chunk {@code c}. */
        long firstChannel(long c) {
            return (c % blocks) * perBlock;
        }

        /** Channels in chunk {@code c}. */
        long channelsIn(long c) {
            return Math.min(perBlock, channels - firstChannel(c));
        }

        @Override
        public Plan plan(long chunkElements, long total) {
            perBlock = Math.max(1, Math.min(Math.min(channels, maxPerBlock), chunkElements / inner));
            blocks = (channels + perBlock - 1) / perBlock;
            if (onPlan != null) {
                onPlan.accept(perBlock);
            }
            return new Plan() {
                @Override
                public long chunkElements() {
                    return perBlock * inner;
                }

                @Override
                public long chunks() {
                    return outer * blocks;
                }

                @Override
                public long count(long c) {
                    return channelsIn(c) * inner;
                }

                private long start(long c) {
                    return ((c / blocks) * channels + firstChannel(c)) * inner;
                }

                @Override
                public void gather(MemorySegment src, long c, MemorySegment staging, int es) {
                    MemorySegment.copy(src, start(c) * es, staging, 0, count(c) * es);
                }

                @Override
                public void scatter(MemorySegment staging, long c, MemorySegment dst, int es) {
                    MemorySegment.copy(staging, 0, dst, start(c) * es, count(c) * es);
                }
            };
        }
    }

    /** A copy of one contiguous run between the tensor and the staging buffer (byte offsets). */
    interface Run {
        void copy(long tensorOffset, long stagingOffset, long bytes);
    }

    /** The chunks of one stream. */
    interface Plan {
        /** The most elements one chunk holds (the staging and device buffers' size). */
        long chunkElements();

        long chunks();

        /** Elements in chunk {@code c}. */
        long count(long c);

        /** Copies chunk {@code c}'s elements of the tensor {@code src} into {@code staging}. */
        void gather(MemorySegment src, long c, MemorySegment staging, int es);

        /** Copies chunk {@code c}'s results from {@code staging} to their places in {@code dst}. */
        void scatter(MemorySegment staging, long c, MemorySegment dst, int es);
    }
}
