<?php

namespace KCTApp\telemed;

/**
 * What KiviCare passed about an appointment, with times in Unix UTC. KiviCare passes a local
 * `start_time` and the site's timezone, which can be wrong (CONTRACT §8.4); where its
 * appointments table can be read, KCTAppointments::now() takes the stored times instead,
 * except in update_meeting, which KiviCare calls before it stores the new ones (§9).
 */
final class KCTAppointmentFacts
{
    public static function ianaOrUtc(?string $tz): string
    {
        return is_string($tz) && in_array($tz, timezone_identifiers_list(), true) ? $tz : 'UTC';
    }

    /** An appointment's minutes from its start to its end: 30 when the end is unknown or not after the start. */
    public static function minutesBetween($start, $end): int
    {
        return (is_int($start) && is_int($end) && $end > $start) ? (int) round(($end - $start) / 60) : 30;
    }

    /**
     * @param array $data KiviCare's meeting data (appointment_id, doctor_id, patient_id,
     *                    start_time local "Y-m-d H:i:s", duration minutes, timezone)
     */
    public static function fromMeetingData(array $data): array
    {
        $tz = (string) ($data['timezone'] ?? '');
        $zone = in_array($tz, timezone_identifiers_list(), true) ? new \DateTimeZone($tz) : wp_timezone();
        $start = null;
        if (!empty($data['start_time'])) {
            $d = \DateTimeImmutable::createFromFormat('Y-m-d H:i:s', (string) $data['start_time'], $zone);
            $start = $d ? $d->getTimestamp() : null;
        }
        $facts = [
            'appointment_id' => (int) ($data['appointment_id'] ?? 0),
            'doctor_id' => (int) ($data['doctor_id'] ?? 0),
            'patient_id' => isset($data['patient_id']) ? (int) $data['patient_id'] : null,
            'start_unix' => $start ?? time(),
            'duration_min' => max(1, (int) round((float) ($data['duration'] ?? 30))),
            'timezone' => self::ianaOrUtc($zone->getName()),
        ];
        /**
         * Filters the appointment facts sent to Zoom (times in Unix UTC).
         *
         * @since 4.0.0
         * @param array $facts appointment_id, doctor_id, patient_id, start_unix, duration_min, timezone.
         * @param array $data  what KiviCare passed.
         */
        return apply_filters('kct_zoom_appointment_facts', $facts, $data);
    }
}
