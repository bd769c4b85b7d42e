<?php

namespace KCTApp\models;

/**
 * The model KiviCare core queries (CONTRACT §4): `::query()->where('appointmentId', $id)
 * ->first()->joinUrl`, `where('zoomId', ...)`. Only KiviCare references it, so it loads
 * only where KiviCare's base model exists. The addon itself reads and writes through
 * KCTMappingRepository. `startUrl` holds ciphertext: the host link is served fresh by the
 * addon's own routes, never from this property.
 */
class KCTAppointmentZoomMapping extends \App\baseClasses\KCBaseModel
{
    protected static function initSchema(): array
    {
        $col = static function (string $column, string $type, bool $nullable = true, array $extra = []): array {
            return ['column' => $column, 'type' => $type, 'nullable' => $nullable] + $extra;
        };
        return [
            'table_name' => 'kc_appointment_zoom_mappings',
            'primary_key' => 'id',
            'columns' => [
                'id' => $col('id', 'bigint', false, ['auto_increment' => true]),
                'appointmentId' => $col('appointment_id', 'bigint', false),
                'doctorId' => $col('doctor_id', 'bigint'),
                'patientId' => $col('patient_id', 'bigint'),
                'host' => $col('host', 'varchar'),
                'status' => $col('status', 'varchar', false, ['default' => 'pending']),
                'correlationRef' => $col('correlation_ref', 'varchar', false, ['default' => '']),
                'zoomId' => $col('zoom_id', 'varchar'),
                'joinUrl' => $col('join_url', 'text'),
                'startUrl' => $col('start_url', 'text'),
                'password' => $col('password', 'varchar'),
                'startTime' => $col('start_time', 'datetime'),
                'duration' => $col('duration', 'int'),
                'timezone' => $col('timezone', 'varchar'),
                'meetingState' => $col('meeting_state', 'varchar'),
                'startUrlFetchedAt' => $col('start_url_fetched_at', 'datetime'),
                'lastError' => $col('last_error', 'text'),
                'createdAt' => $col('created_at', 'datetime'),
                'updatedAt' => $col('updated_at', 'datetime'),
            ],
            'timestamps' => true,
            'soft_deletes' => false,
        ];
    }
}
