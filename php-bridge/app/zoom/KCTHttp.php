<?php

namespace KCTApp\zoom;

/**
 * Sends a request the core built, through WordPress's HTTP API (so proxies, timeouts and
 * filters apply), and hands back what the core's `api.interpret` takes: the response, or
 * the network error.
 */
final class KCTHttp
{
    /**
     * The headers of Zoom's answers the core reads, lowercase: only these are handed back.
     * The core lists them (`meta.info`'s `response_headers`; a bridge test holds this list to
     * it). An answer carries many more (dates, cookies, tracing), which the core would read
     * only to ignore.
     */
    public const CORE_READS = ['retry-after'];

    public static function send(array $request): array
    {
        $args = [
            'method' => $request['method'],
            'headers' => $request['headers'] ?? [],
            'timeout' => 15,
            'redirection' => 0,
        ];
        if (isset($request['body'])) {
            $args['body'] = $request['body'];
        }
        $r = wp_remote_request($request['url'], $args);
        if (is_wp_error($r)) {
            return ['network_error' => $r->get_error_message()];
        }
        $headers = [];
        foreach (wp_remote_retrieve_headers($r) as $name => $value) {
            if (in_array(strtolower((string) $name), self::CORE_READS, true)) {
                $headers[(string) $name] = is_array($value) ? implode(', ', $value) : (string) $value;
            }
        }
        return ['response' => [
            'status' => (int) wp_remote_retrieve_response_code($r),
            // An object, so that no headers still encodes as a JSON map.
            'headers' => (object) $headers,
            'body' => (string) wp_remote_retrieve_body($r),
        ]];
    }
}
