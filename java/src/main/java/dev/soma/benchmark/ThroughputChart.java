package dev.soma.benchmark;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.geom.Rectangle2D;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.title.TextTitle;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;
import org.jfree.svg.SVGGraphics2D;

/**
 * One chart of throughput against size for one op, direction and dtype: a solid line per backend
 * (GB/s against elements, or against row length for softmax) and, dashed in the same colour, that
 * backend's copy bandwidth at the same sizes: the roofline the op is measured against.
 */
final class ThroughputChart {
    static {
        // Charts are drawn off-screen; never try to open a display.
        System.setProperty("java.awt.headless", "true");
    }

    static final int WIDTH = 720;
    static final int HEIGHT = 440;
    /** Colour-blind-safe (Okabe-Ito) colours, one per backend. */
    private static final Color[] COLOURS = {
        new Color(0x0072B2), new Color(0xD55E00), new Color(0x009E73), new Color(0xCC79A7), new Color(0xE69F00),
    };

    private final JFreeChart chart;

    private ThroughputChart(JFreeChart chart) {
        this.chart = chart;
    }

    /** A chart of {@code results}, which must share op, direction and dtype. */
    static ThroughputChart of(String title, List<BenchResult> results) {
        BenchCase first = results.get(0).benchCase();
        boolean rows = first.shape().length > 1;
        Map<String, List<BenchResult>> byBackend = new LinkedHashMap<>();
        for (BenchResult r : results) {
            byBackend.computeIfAbsent(r.backend(), k -> new ArrayList<>()).add(r);
        }
        XYSeriesCollection data = new XYSeriesCollection();
        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, true);
        int series = 0;
        int backendIndex = 0;
        for (Map.Entry<String, List<BenchResult>> e : byBackend.entrySet()) {
            XYSeries op = new XYSeries(e.getKey(), true, false);
            XYSeries copy = new XYSeries(e.getKey() + " copy (roofline)", true, false);
            for (BenchResult r : e.getValue()) {
                op.add(r.benchCase().sizeAxisValue(), r.gbPerSecond());
                if (Double.isFinite(r.copyGbPerSecond())) {
                    copy.add(r.benchCase().sizeAxisValue(), r.copyGbPerSecond());
                }
            }
            Color c = COLOURS[backendIndex++ % COLOURS.length];
            data.addSeries(op);
            renderer.setSeriesPaint(series, c);
            renderer.setSeriesStroke(series, new BasicStroke(2.2f));
            series++;
            if (copy.getItemCount() > 0) {
                data.addSeries(copy);
                renderer.setSeriesPaint(series, c);
                renderer.setSeriesShapesVisible(series, false);
                renderer.setSeriesStroke(series, new BasicStroke(1.6f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER,
                        10f, new float[] {7f, 5f}, 0f));
                series++;
            }
        }
        LogAxis x = new LogAxis(rows ? "row length (elements; rows x length ~ "
                + first.elements() + ")" : "elements");
        x.setBase(2);
        x.setBaseSymbol("2");
        x.setSmallestValue(1);
        // Whole powers of two only: 2^12, 2^13, ... rather than 2^12.5.
        x.setStandardTickUnits(NumberAxis.createIntegerTickUnits());
        NumberAxis y = new NumberAxis("GB/s (bytes read + written)");
        y.setAutoRangeIncludesZero(true);
        XYPlot plot = new XYPlot(data, x, y, renderer);
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(new Color(0xDDDDDD));
        plot.setRangeGridlinePaint(new Color(0xDDDDDD));
        JFreeChart chart = new JFreeChart(title, new Font(Font.SANS_SERIF, Font.BOLD, 15), plot, true);
        chart.setBackgroundPaint(Color.WHITE);
        chart.addSubtitle(new TextTitle("solid: the op; dashed: a copy of the same bytes on the same backend"
                + " (the roofline); median of repeats", new Font(Font.SANS_SERIF, Font.PLAIN, 11)));
        return new ThroughputChart(chart);
    }

    void writePng(Path file) throws IOException {
        AtomicFiles.write(file, out -> ChartUtils.writeChartAsPNG(out, chart, WIDTH, HEIGHT));
    }

    void writeSvg(Path file) throws IOException {
        SVGGraphics2D g = new SVGGraphics2D(WIDTH, HEIGHT);
        chart.draw(g, new Rectangle2D.Double(0, 0, WIDTH, HEIGHT));
        String svg = g.getSVGDocument();
        AtomicFiles.write(file, out -> out.write(svg.getBytes(StandardCharsets.UTF_8)));
    }
}
