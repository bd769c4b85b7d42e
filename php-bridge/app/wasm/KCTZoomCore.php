<?php

namespace KCTApp\wasm;

/**
 * The typed facade over the core: one method per core operation, PHP arrays in and out.
 * Error answers become KCTCoreException (code, message, field), which the WordPress layer
 * maps to WP_Error. Needs no WordPress.
 *
 * The operations, their inputs and outputs are those of the core (src/abi); the golden
 * vectors in tests/vectors/<op>/ show each.
 */
final class KCTZoomCore
{
    /** Every core operation this facade exposes (debug.panic is left out on purpose). */
    public const OPS = [
        'meta.info' => 'metaInfo',
        'meeting.create' => 'meetingCreate',
        'meeting.update' => 'meetingUpdate',
        'meeting.delete' => 'meetingDelete',
        'meeting.get' => 'meetingGet',
        'meeting.list' => 'meetingList',
        'meeting.add_registrant' => 'meetingAddRegistrant',
        'user.get' => 'userGet',
        'oauth.authorize' => 'oauthAuthorize',
        'oauth.verify_state' => 'oauthVerifyState',
        'oauth.exchange_code' => 'oauthExchangeCode',
        'oauth.refresh' => 'oauthRefresh',
        'oauth.s2s_token' => 'oauthS2sToken',
        'oauth.revoke' => 'oauthRevoke',
        'token.decide' => 'tokenDecide',
        'token.after_refresh_failure' => 'tokenAfterRefreshFailure',
        'connection.change' => 'connectionChange',
        'api.interpret' => 'apiInterpret',
        'lifecycle.step' => 'lifecycleStep',
        'reconcile.orphans' => 'reconcileOrphans',
        'webhook.handle' => 'webhookHandle',
        'visit.apply' => 'visitApply',
        'mapping.start_link' => 'mappingStartLink',
        'mapping.apply_event' => 'mappingApplyEvent',
        'settings.validate_admin' => 'settingsValidateAdmin',
        'settings.validate_doctor' => 'settingsValidateDoctor',
        'policy.validate' => 'policyValidate',
        'app.missing_scopes' => 'appMissingScopes',
    ];

    /** @var KCTCore */
    private $core;

    /**
     * `$input` with its mapping row's null fields left out: the core reads a field the row
     * leaves out as null, so they are not sent (a third of a booking's row; reading them was a
     * tenth of the step that reads Zoom's answer). The golden vectors hold every operation
     * that takes a row to the same answer both ways.
     */
    private static function rowWithoutNulls(array $input): array
    {
        if (isset($input['row']) && is_array($input['row'])) {
            foreach ($input['row'] as $k => $v) {
                if ($v === null) {
                    unset($input['row'][$k]);
                }
            }
        }
        return $input;
    }

    public function __construct(KCTCore $core)
    {
        $this->core = $core;
    }

    /** A facade over a fresh core instance (from the process-level cache). */
    public static function load(): self
    {
        return new self(KCTWasmLoader::core());
    }

    /** The core's ABI version, version and operation list. (`meta.info`) */
    public function metaInfo(array $input = []): array
    {
        return $this->core->call('meta.info', $input);
    }

    /** The create-meeting request for an appointment. (`meeting.create`) */
    public function meetingCreate(array $input = []): array
    {
        return $this->core->call('meeting.create', $input);
    }

    /** The reschedule (PATCH) request. (`meeting.update`) */
    public function meetingUpdate(array $input = []): array
    {
        return $this->core->call('meeting.update', $input);
    }

    /** The delete request (cancellation). (`meeting.delete`) */
    public function meetingDelete(array $input = []): array
    {
        return $this->core->call('meeting.delete', $input);
    }

    /** The get-meeting request (fresh start_url). (`meeting.get`) */
    public function meetingGet(array $input = []): array
    {
        return $this->core->call('meeting.get', $input);
    }

    /** The upcoming-meetings request (recovery). (`meeting.list`) */
    public function meetingList(array $input = []): array
    {
        return $this->core->call('meeting.list', $input);
    }

    /** The get-user request (test connection). (`user.get`) */
    public function userGet(array $input = []): array
    {
        return $this->core->call('user.get', $input);
    }

    /** The authorize URL, signed state and the one-time key to burn. (`oauth.authorize`) */
    public function oauthAuthorize(array $input = []): array
    {
        return $this->core->call('oauth.authorize', $input);
    }

    /** The verified state: user, key to burn, PKCE verifier. (`oauth.verify_state`) */
    public function oauthVerifyState(array $input = []): array
    {
        return $this->core->call('oauth.verify_state', $input);
    }

    /** The code-exchange token request. (`oauth.exchange_code`) */
    public function oauthExchangeCode(array $input = []): array
    {
        return $this->core->call('oauth.exchange_code', $input);
    }

    /** The refresh token request. (`oauth.refresh`) */
    public function oauthRefresh(array $input = []): array
    {
        return $this->core->call('oauth.refresh', $input);
    }

    /** The Server-to-Server token request. (`oauth.s2s_token`) */
    public function oauthS2sToken(array $input = []): array
    {
        return $this->core->call('oauth.s2s_token', $input);
    }

    /** The revoke request. (`oauth.revoke`) */
    public function oauthRevoke(array $input = []): array
    {
        return $this->core->call('oauth.revoke', $input);
    }

    /** use | refresh | fetch | reauthorize for a stored token set. (`token.decide`) */
    public function tokenDecide(array $input = []): array
    {
        return $this->core->call('token.decide', $input);
    }

    /** What to do after invalid_grant, from the re-read token set. (`token.after_refresh_failure`) */
    public function tokenAfterRefreshFailure(array $input = []): array
    {
        return $this->core->call('token.after_refresh_failure', $input);
    }

    /** A doctor's connection moved on: forget the tokens, the state, tell them. (`connection.change`) */
    public function connectionChange(array $input = []): array
    {
        return $this->core->call('connection.change', $input);
    }

    /** Zoom's answer (or a network error) as one outcome. (`api.interpret`) */
    public function apiInterpret(array $input = []): array
    {
        return $this->core->call('api.interpret', $input, ['response', 'body']);
    }

    /** A verified webhook as a host action. (`webhook.handle`) */
    public function webhookHandle(array $input = []): array
    {
        return $this->core->call('webhook.handle', $input);
    }

    /** The request that registers the patient on a meeting. (`meeting.add_registrant`) */
    public function meetingAddRegistrant(array $input = []): array
    {
        return $this->core->call('meeting.add_registrant', $input);
    }

    /** A visit's next record and what to do, for a meeting or participant event. (`visit.apply`) */
    public function visitApply(array $input = []): array
    {
        return $this->core->call('visit.apply', $input);
    }

    /**
     * One step of an appointment's meeting lifecycle: the row to write, then one effect.
     * (`lifecycle.step`)
     */
    public function lifecycleStep(array $input = []): array
    {
        return $this->core->call('lifecycle.step', self::rowWithoutNulls($input), ['last', 'response', 'body']);
    }

    /** Our meetings at Zoom that no appointment owns any more. (`reconcile.orphans`) */
    public function reconcileOrphans(array $input = []): array
    {
        return $this->core->call('reconcile.orphans', $input);
    }

    /**
     * Runs an operation named by the core itself (a `call` effect's `build.op`). Only the
     * operations of this facade are accepted.
     */
    public function run(string $op, array $input): array
    {
        if (!isset(self::OPS[$op])) {
            throw new \InvalidArgumentException('not a core operation of this facade');
        }
        return $this->core->call($op, $input);
    }

    /** Whether the stored start link can be shown or must be fetched; after a fetch, the row that keeps the new one. (`mapping.start_link`) */
    public function mappingStartLink(array $input = []): array
    {
        return $this->core->call('mapping.start_link', self::rowWithoutNulls($input));
    }

    /** The row after a webhook event. (`mapping.apply_event`) */
    public function mappingApplyEvent(array $input = []): array
    {
        return $this->core->call('mapping.apply_event', self::rowWithoutNulls($input));
    }

    /** Every problem of the clinic's Zoom settings. (`settings.validate_admin`) */
    public function settingsValidateAdmin(array $input = []): array
    {
        return $this->core->call('settings.validate_admin', $input);
    }

    /** Every problem of a doctor's Zoom settings. (`settings.validate_doctor`) */
    public function settingsValidateDoctor(array $input = []): array
    {
        return $this->core->call('settings.validate_doctor', $input);
    }

    /** Every problem of the clinic's meeting policy. (`policy.validate`) */
    public function policyValidate(array $input = []): array
    {
        return $this->core->call('policy.validate', $input);
    }

    /**
     * The scopes a Zoom app's token (`granted`) lacks for the calls the core makes in a mode
     * (`auth_type`, `register_patient`). (`app.missing_scopes`)
     */
    public function appMissingScopes(array $input = []): array
    {
        return $this->core->call('app.missing_scopes', $input);
    }
}
