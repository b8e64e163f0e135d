package io.vaultbroker.stomp;

/**
 * Per-session decoding limits; they bound the memory a single peer can make the decoder hold.
 * <p>Immutable, thread-safe.
 *
 * @param maxFrameBytes      most bytes of command line, header lines and body in one frame (EOLs count, the
 *                           terminating NUL does not)
 * @param maxHeaders         most header lines in one frame
 * @param maxHeaderLineBytes most bytes in one command or header line, excluding its EOL
 */
public record StompLimits(int maxFrameBytes, int maxHeaders, int maxHeaderLineBytes) {

    public static final StompLimits DEFAULTS = new StompLimits(65536, 32, 4096);

    public StompLimits {
        if (maxFrameBytes <= 0 || maxHeaders < 0 || maxHeaderLineBytes <= 0) {
            throw new IllegalArgumentException("limits must be positive: " + maxFrameBytes + ", " + maxHeaders
                                                       + ", " + maxHeaderLineBytes);
        }
    }
}
