package org.stasis.framework.control;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.Set;

/**
 * The coordinator's secret for TCP control connections: 256 random bits as hex in a
 * file {@code <rundir>/<name>.token} of mode 0600. Created at the first start and
 * reused afterwards, so a client that has a copy keeps working; refused if anyone
 * but the owner could read or replace it.
 */
final class TokenFile {
    /** Bytes of randomness in a new token. */
    private static final int TOKEN_BYTES = 32;
    /** Shortest token accepted from an existing file (128 bits). */
    private static final int MIN_HEX = 32;
    private static final int MAX_HEX = 256;
    private static final Set<PosixFilePermission> PRIVATE = EnumSet.of(PosixFilePermission.OWNER_READ,
            PosixFilePermission.OWNER_WRITE);

    private final Path path;
    private final byte[] digest;

    private TokenFile(Path path, String token) {
        this.path = path;
        this.digest = sha256(token);
    }

    /**
     * @param path the token file
     * @param owner the user who must own it
     * @return the token in it, after creating the file if it did not exist
     * @throws IOException if it cannot be created or read, or is not private to the owner
     */
    static TokenFile loadOrCreate(Path path, UserPrincipal owner) throws IOException {
        if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            create(path);
        }
        PosixFileAttributes attributes = Files.readAttributes(path, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        if (!attributes.isRegularFile() || !attributes.owner().equals(owner)
                || !attributes.permissions().equals(PRIVATE)) {
            throw new IOException("token file " + path + " is not a regular file of mode 0600 owned by "
                    + owner.getName() + " (it is " + PosixFilePermissions.toString(attributes.permissions())
                    + ", owner " + attributes.owner().getName() + "); remove it and a new token is made");
        }
        String token = Files.readString(path, StandardCharsets.US_ASCII).strip();
        if (token.length() < MIN_HEX || token.length() > MAX_HEX || !token.matches("[0-9a-fA-F]+")) {
            throw new IOException("token file " + path + " does not hold a token of " + MIN_HEX + " to " + MAX_HEX
                    + " hex digits; remove it and a new token is made");
        }
        return new TokenFile(path, token);
    }

    // Written under a temporary name and renamed, so nobody ever reads a half-written token.
    private static void create(Path path) throws IOException {
        byte[] random = new byte[TOKEN_BYTES];
        new SecureRandom().nextBytes(random);
        Path temporary = path.resolveSibling(path.getFileName() + ".tmp");
        Files.deleteIfExists(temporary);
        Files.createFile(temporary, PosixFilePermissions.asFileAttribute(PRIVATE));
        try {
            Files.writeString(temporary, HexFormat.of().formatHex(random) + "\n", StandardCharsets.US_ASCII);
            try {
                Files.move(temporary, path, StandardCopyOption.ATOMIC_MOVE);
            } catch (FileAlreadyExistsException e) {
                // Someone else made one first: use theirs.
            }
        } finally {
            Files.deleteIfExists(temporary);
        }
    }

    /** @return where the token is kept */
    Path path() {
        return path;
    }

    /**
     * Compares in time independent of where the texts differ (SHA-256 of both, then
     * {@link MessageDigest#isEqual}), so a client cannot guess the token byte by byte.
     *
     * @param presented what the client sent
     * @return whether it is the token
     */
    boolean matches(String presented) {
        return MessageDigest.isEqual(digest, sha256(presented));
    }

    private static byte[] sha256(String text) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.US_ASCII));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this Java", e);
        }
    }
}
