package dev.soma.backend.opencl;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Loads the OpenCL C sources packaged under {@code dev/soma/opencl/} (the soma-opencl-kernels
 * artifact) and inlines their {@code #include "..."} lines, so that the driver gets one
 * self-contained string: no include paths, which some drivers resolve against their own working
 * directory. {@code #line} markers keep build logs pointing at the original files.
 */
final class OpenClSources {
    static final String RESOURCE_DIR = "dev/soma/opencl/";
    private static final Pattern INCLUDE = Pattern.compile("(?m)^[ \\t]*#[ \\t]*include[ \\t]+\"([^\"]+)\"[ \\t]*$");
    private static final int MAX_DEPTH = 8;

    private OpenClSources() {
    }

    /** The file's text with every quoted include replaced by the included file (recursively). */
    static String load(String file) {
        return inline(file, 0);
    }

    /** The raw text of one packaged file. */
    static String read(String file) {
        String path = RESOURCE_DIR + file;
        try (InputStream in = OpenClSources.class.getClassLoader().getResourceAsStream(path)) {
            if (in == null) {
                throw new IllegalStateException("OpenCL source " + path + " is not on the class path; "
                        + "the soma-opencl-kernels jar is missing from this build");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read OpenCL source " + path, e);
        }
    }

    private static String inline(String file, int depth) {
        if (depth > MAX_DEPTH) {
            throw new IllegalStateException("OpenCL includes nest deeper than " + MAX_DEPTH + " at " + file);
        }
        String text = read(file);
        Matcher m = INCLUDE.matcher(text);
        StringBuilder out = new StringBuilder("#line 1 \"" + file + "\"\n");
        int last = 0;
        while (m.find()) {
            out.append(text, last, m.start());
            out.append(inline(m.group(1), depth + 1));
            int line = 1 + (int) text.substring(0, m.end()).chars().filter(c -> c == '\n').count();
            out.append("\n#line ").append(line + 1).append(" \"").append(file).append("\"\n");
            last = m.end() + (m.end() < text.length() && text.charAt(m.end()) == '\n' ? 1 : 0);
        }
        out.append(text.substring(last));
        return out.toString();
    }
}
