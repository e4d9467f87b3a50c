package dev.soma.benchmark;

import java.util.List;

/** The report's index.html: the run's heading, the charts (PNG, linking to the SVG), the table, notes. */
final class HtmlPage {
    private HtmlPage() {
    }

    static String render(BenchReport report, List<ReportWriter.Chart> charts) {
        StringBuilder b = new StringBuilder();
        b.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
                .append("<title>soma bench</title>\n<style>\n")
                .append("body{font-family:sans-serif;margin:2em;color:#222}\n")
                .append("table{border-collapse:collapse;font-size:0.9em}\n")
                .append("th,td{padding:2px 8px;border-bottom:1px solid #ddd}\n")
                .append("td.n{text-align:right;font-variant-numeric:tabular-nums}\n")
                .append(".charts{display:flex;flex-wrap:wrap;gap:1em}\n")
                .append("figure{margin:0}\nimg{max-width:100%;height:auto}\n")
                .append("</style>\n</head>\n<body>\n<h1>soma bench</h1>\n");
        List<String> heading = TableFormat.heading(report);
        b.append("<p>").append(esc(heading.get(0))).append("</p>\n<ul>\n");
        for (String line : heading.subList(1, 1 + report.targets().size())) {
            b.append("<li>").append(esc(line.strip())).append("</li>\n");
        }
        b.append("</ul>\n");
        for (String line : heading.subList(1 + report.targets().size(), heading.size())) {
            b.append("<p>").append(esc(line)).append("</p>\n");
        }
        if (!report.failures().isEmpty()) {
            b.append("<h2>Failed validation (not timed)</h2>\n<ul>\n");
            for (String f : report.failures()) {
                b.append("<li>").append(esc(f)).append("</li>\n");
            }
            b.append("</ul>\n");
        }
        b.append("<h2>Throughput against size</h2>\n<div class=\"charts\">\n");
        for (ReportWriter.Chart c : charts) {
            b.append("<figure><a href=\"").append(esc(c.baseName())).append(".svg\"><img src=\"")
                    .append(esc(c.baseName())).append(".png\" width=\"").append(ThroughputChart.WIDTH)
                    .append("\" height=\"").append(ThroughputChart.HEIGHT).append("\" alt=\"")
                    .append(esc(c.title())).append("\"></a><figcaption>").append(esc(c.title()))
                    .append(" (<a href=\"").append(esc(c.baseName())).append(".svg\">SVG</a>)</figcaption></figure>\n");
        }
        b.append("</div>\n<h2>Results</h2>\n<p>Also as <a href=\"results.csv\">results.csv</a> and ")
                .append("<a href=\"results.json\">results.json</a>.</p>\n<table>\n<tr>");
        for (String h : TableFormat.HEADERS) {
            b.append("<th>").append(esc(h)).append("</th>");
        }
        b.append("</tr>\n");
        for (String[] row : TableFormat.cells(report)) {
            b.append("<tr>");
            for (int i = 0; i < row.length; i++) {
                b.append(i < 5 ? "<td>" : "<td class=\"n\">").append(esc(row[i])).append("</td>");
            }
            b.append("</tr>\n");
        }
        b.append("</table>\n");
        if (!report.notes().isEmpty()) {
            b.append("<h2>Notes</h2>\n<ul>\n");
            for (String n : report.notes()) {
                b.append("<li>").append(esc(n)).append("</li>\n");
            }
            b.append("</ul>\n");
        }
        return b.append("</body>\n</html>\n").toString();
    }

    static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
