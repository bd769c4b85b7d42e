<?php

namespace KCTApp\security;

/**
 * Secrets at rest: libsodium secretbox (XSalsa20-Poly1305) with a random nonce per value.
 * The key comes from the KCT_ZOOM_ENCRYPTION_KEY constant (64 hex characters) or is derived
 * from WordPress's salts with a context label. There is no plaintext fallback: without
 * sodium or a key, storing a secret fails.
 */
final class KCTVault
{
    public const PREFIX = 'kct1:';
    public const CONTEXT = 'kivicare-telemed-zoom/secrets/v1';

    private static function key(): string
    {
        if (!function_exists('sodium_crypto_secretbox')) {
            throw new \RuntimeException('libsodium is required to store Zoom secrets');
        }
        if (defined('KCT_ZOOM_ENCRYPTION_KEY')) {
            $key = @hex2bin((string) KCT_ZOOM_ENCRYPTION_KEY);
            if ($key === false || strlen($key) !== SODIUM_CRYPTO_SECRETBOX_KEYBYTES) {
                throw new \RuntimeException('KCT_ZOOM_ENCRYPTION_KEY must be 64 hexadecimal characters');
            }
            return $key;
        }
        $material = wp_salt('auth') . wp_salt('secure_auth');
        return sodium_crypto_generichash(self::CONTEXT . "\0" . $material, '', SODIUM_CRYPTO_SECRETBOX_KEYBYTES);
    }

    /** Where the key check value is kept: it tells when the key changed under stored secrets. */
    public const KEY_CHECK = 'kct_zoom_key_check';

    public static function encrypt(string $plain): string
    {
        $nonce = random_bytes(SODIUM_CRYPTO_SECRETBOX_NONCEBYTES);
        $sealed = self::PREFIX . base64_encode($nonce . sodium_crypto_secretbox($plain, $nonce, self::key()));
        if (get_option(self::KEY_CHECK) === false) {
            add_option(self::KEY_CHECK, self::keyCheck(), '', 'yes');
        }
        return $sealed;
    }

    /** A value that changes with the key and reveals nothing of it; null when there is no key. */
    public static function keyCheck(): ?string
    {
        try {
            return substr(hash_hmac('sha256', 'kivicare-telemed-zoom/key-check', self::key()), 0, 32);
        } catch (\Throwable $e) {
            return null;
        }
    }

    /**
     * Whether the key differs from the one the stored secrets were sealed with (the salts
     * rotated, or KCT_ZOOM_ENCRYPTION_KEY changed): every stored secret is unreadable then.
     */
    public static function keyChanged(): bool
    {
        $stored = get_option(self::KEY_CHECK);
        $current = self::keyCheck();
        return is_string($stored) && ($current === null || !hash_equals($stored, $current));
    }

    /** The secrets were entered again under the current key. */
    public static function acceptCurrentKey(): void
    {
        $current = self::keyCheck();
        if ($current !== null) {
            update_option(self::KEY_CHECK, $current, true);
        }
    }

    /** The plaintext, or null when the value is not ours or does not decrypt (never throws on data). */
    public static function decrypt(?string $stored): ?string
    {
        if ($stored === null || strncmp($stored, self::PREFIX, strlen(self::PREFIX)) !== 0) {
            return null;
        }
        $raw = base64_decode(substr($stored, strlen(self::PREFIX)), true);
        if ($raw === false || strlen($raw) <= SODIUM_CRYPTO_SECRETBOX_NONCEBYTES) {
            return null;
        }
        try {
            $key = self::key();
        } catch (\Throwable $e) {
            // No key (no sodium, a malformed constant): unreadable, never an exception inside
            // KiviCare's booking transaction.
            return null;
        }
        $plain = sodium_crypto_secretbox_open(
            substr($raw, SODIUM_CRYPTO_SECRETBOX_NONCEBYTES),
            substr($raw, 0, SODIUM_CRYPTO_SECRETBOX_NONCEBYTES),
            $key
        );
        return $plain === false ? null : $plain;
    }
}
