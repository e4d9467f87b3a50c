package dev.soma.backend;

/** Finds out whether one kind of backend can run here and opens it. One per {@link BackendKind}. */
public interface BackendProvider {

    BackendKind kind();

    /** Probes libraries, drivers and devices; never throws, never loads kernels. */
    Availability probe();

    /**
     * Opens the backend on one device.
     *
     * @param device the device index or a case-insensitive substring of its name; null for the
     *               backend's default (its first GPU, or its first device when it has no GPU)
     * @throws BackendUnavailableException when it cannot run here, with the reason
     */
    Backend open(String device);
}
