<?php

namespace KCTApp\telemed;

use KCTApp\meetings\KCTAppointments;
use KCTApp\meetings\KCTMeetingLoop;
use KCTApp\meetings\KCTQueue;
use KCTApp\meetings\KCTMappingRepository;
use KCTApp\connection\KCTConnect;

/**
 * KiviCare's appointment events, closing the gaps of CONTRACT §8: a meeting is created when
 * an appointment is confirmed later (pay later, payment, status change), cancellation and
 * deletion reach Zoom, and a reschedule or reassignment moves the meeting. Each event only
 * names an intent; the core's lifecycle step (KCTMeetingLoop) decides what it means now.
 */
final class KCTAppointmentHooks
{
    public static function register(): void
    {
        add_filter('kc_telemed_providers', [self::class, 'provider']);
        add_action('kc_appointment_status_update', [self::class, 'onStatus'], 10, 3);
        // Before KiviCare's own mail listener (priority 10), which mails the links it finds.
        add_action('kc_appointment_payment_completed', [self::class, 'onPaid'], 5, 2);
        add_action('kc_appointment_cancelled', [self::class, 'onCancelled'], 10, 1);
        add_action('kc_appointment_deleted', [self::class, 'onDeleted'], 10, 1);
        add_action('kc_patient_delete', [self::class, 'onPatientDeleted'], 10, 1);
        add_action('kc_appointment_updated', [self::class, 'onUpdated'], 10, 3);
        add_filter('kc_is_video_consultation', [self::class, 'isVideo'], 10, 2);
        KCTQueue::register();
        // Retries queued by 4.0.0 carried (intent, facts): resume the row's own work instead.
        add_action('kct_zoom_retry', [self::class, 'legacyRetry'], 10, 2);
        add_action('kct_zoom_daily', [KCTConnect::class, 'purgeBurnt']);
        add_action('kct_zoom_daily', [KCTConnect::class, 'learnMissingZoomUsers']);
        add_action('kct_zoom_daily', [\KCTApp\auth\KCTTokenStore::class, 'checkAll']);
        add_action('kct_zoom_daily', [\KCTApp\meetings\KCTReconcile::class, 'run'], 20);
        add_action('kct_zoom_daily', static function () {
            \KCTApp\zoom\KCTHostUsage::prune(time());
        });
    }

    /** Registered only when KiviCare's abstract provider exists (the adapter extends it). */
    public static function provider($providers)
    {
        $providers = is_array($providers) ? $providers : [];
        if (class_exists('App\\abstracts\\KCAbstractTelemedProvider')) {
            $providers['zoom'] = [
                'class' => KCTZoom::class,
                'settings_key' => \KCTApp\settings\KCTSettings::OPTION,
                'description' => __('Zoom meetings for telemedicine appointments.', 'kivicare-telemed-zoom'),
            ];
        }
        return $providers;
    }

    /** Reads what KiviCare hands over (object or array, CONTRACT §8.15). */
    private static function field($appt, array $names)
    {
        foreach ($names as $n) {
            if (is_object($appt) && isset($appt->$n)) {
                return $appt->$n;
            }
            if (is_array($appt) && isset($appt[$n])) {
                return $appt[$n];
            }
        }
        return null;
    }

    /** Meeting data in the shape core passes to create_meeting, from an appointment. */
    private static function meetingData(int $id, $appt): array
    {
        $date = self::field($appt, ['appointmentStartDate', 'appointment_start_date']);
        $time = self::field($appt, ['appointmentStartTime', 'appointment_start_time']);
        $end = self::field($appt, ['appointmentEndTime', 'appointment_end_time']);
        // The end's own date: an appointment that runs past midnight ends the next day.
        $endDate = self::field($appt, ['appointmentEndDate', 'appointment_end_date']) ?? $date;
        $at = static function ($d, $t) {
            return $d && $t ? strtotime("$d $t UTC") : false;
        };
        $duration = KCTAppointmentFacts::minutesBetween($at($date, $time), $at($endDate, $end));
        return [
            'appointment_id' => $id,
            'doctor_id' => (int) self::field($appt, ['doctorId', 'doctor_id']),
            'patient_id' => (int) self::field($appt, ['patientId', 'patient_id']),
            'start_time' => $date && $time ? "$date $time" : null,
            'duration' => max(1, $duration),
            'timezone' => (string) (self::field($appt, ['appointmentTimezone', 'appointment_timezone']) ?? wp_timezone_string()),
        ];
    }

    public static function isTelemed(int $id, $appt = null): bool
    {
        $known = KCTMappingRepository::find($id) !== null
            || self::field($appt, ['telemedService', 'telemed_service', 'is_telemed']) === 'yes'
            || KCTAppointments::isTelemed($id) === true;
        /**
         * Filters whether an appointment is a telemedicine (Zoom) appointment.
         *
         * @since 4.0.0
         * @param bool  $telemed
         * @param int   $appointment_id
         * @param mixed $appointment what KiviCare passed, if anything
         */
        return (bool) apply_filters('kct_zoom_is_telemed_appointment', $known, $id, $appt);
    }

    /**
     * KiviCare's status route, Pay Later, a payment or its auto-close changed the status: the
     * core reads the status now (the one passed when KiviCare's table cannot be read) and
     * decides what it asks for. KiviCare sends no mail here (§8.1, §8.11): the core announces
     * a meeting it makes.
     */
    public static function onStatus($id, $status, $appt = null): void
    {
        $id = (int) $id;
        if (!self::isTelemed($id, $appt)) {
            return;
        }
        $passed = KCTAppointmentFacts::fromMeetingData(self::meetingData($id, $appt)) + ['status' => (int) $status];
        KCTMeetingLoop::run($id, 'status_changed', $passed);
    }

    public static function onPaid($id, $data = []): void
    {
        if (self::isTelemed((int) $id, $data)) {
            KCTMeetingLoop::run((int) $id, 'ensure', KCTAppointmentFacts::fromMeetingData(self::meetingData((int) $id, $data)), ['caller_mails' => true]);
        }
    }

    public static function onCancelled($id): void
    {
        self::end((int) $id, 'cancel');
    }

    public static function onDeleted($id): void
    {
        self::end((int) $id, 'delete');
    }

    /**
     * Cancel or delete. An appointment with no mapping row never had a meeting: the core
     * would answer "nothing", so neither it nor the runtime is loaded for it (every
     * non-telemedicine cancellation passes here).
     */
    public static function end(int $id, string $intent)
    {
        return KCTMappingRepository::find($id) === null ? null : KCTMeetingLoop::run($id, $intent);
    }

    /** Core deletes the patient's appointments without calling the provider (§8.3). */
    public static function onPatientDeleted($patientId): void
    {
        foreach (KCTMappingRepository::appointmentsOfPatient((int) $patientId) as $appointmentId) {
            KCTMeetingLoop::run($appointmentId, 'delete');
        }
    }

    /**
     * After the row update: times, doctor, patient and status as KiviCare now stores them.
     * KiviCare's edit form (and its bills) change the status here without its status hook:
     * an appointment with no meeting yet goes the status hook's way.
     */
    public static function onUpdated($id, $changes = [], $appt = null): void
    {
        $id = (int) $id;
        if (KCTMappingRepository::find($id) === null) {
            if (is_array($changes) && isset($changes['status'])) {
                self::onStatus($id, $changes['status'], $appt);
            }
            return;
        }
        KCTMeetingLoop::run($id, 'reschedule', KCTAppointmentFacts::fromMeetingData(self::meetingData($id, $appt ?: $changes)));
    }

    public static function legacyRetry($intent = null, $facts = []): void
    {
        if (is_array($facts) && !empty($facts['appointment_id'])) {
            KCTMeetingLoop::resume((int) $facts['appointment_id']);
        }
    }

    public static function isVideo($is, $id)
    {
        $row = KCTMappingRepository::find((int) $id);
        return $is || KCTMappingRepository::isLive($row);
    }
}
