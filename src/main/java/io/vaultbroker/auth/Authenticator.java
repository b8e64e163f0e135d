package io.vaultbroker.auth;

/** Turns a CONNECT frame's credential into a principal. Implementations are safe to share between threads. */
public interface Authenticator {

    /**
     * @return the principal; never null
     * @throws AuthException when the credential is missing, malformed or not valid now
     */
    Principal authenticate(Credentials c) throws AuthException;
}
