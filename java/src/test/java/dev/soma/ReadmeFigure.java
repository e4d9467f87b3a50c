package dev.soma;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Keeps a count the README quotes equal to what a test measured. */
public final class ReadmeFigure {
    private ReadmeFigure() {
    }

    /**
     * When the README (found from the module folder or the checkout root) has a sentence matching
     * {@code regex}, its first group must be {@code measured}. Where the sentence was reworded away
     * there is nothing to keep accurate, so nothing is checked.
     */
    public static void check(String regex, long measured) {
        Path readme = Files.exists(Path.of("../README.md")) ? Path.of("../README.md") : Path.of("README.md");
        if (!Files.exists(readme)) {
            return;
        }
        String text;
        try {
            text = Files.readString(readme).replaceAll("\\s+", " ");
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + readme + ": " + e.getMessage(), e);
        }
        Matcher m = Pattern.compile(regex).matcher(text);
        if (m.find()) {
            assertEquals(measured, Long.parseLong(m.group(1)), "README.md quotes '" + m.group() + "'; update it to "
                    + measured);
        }
    }
}
