<?php
/** The create-meeting input every benchmark uses (the host adds `random`). */
function kct_bench_input(): array
{
    return [
        'auth' => ['access_token' => 'bench-token', 'api_url' => 'https://api.zoom.us'],
        'host' => 'dr.rao@clinic.example',
        'appointment' => ['id' => 42, 'doctor_id' => 7, 'patient_id' => 9, 'start_unix' => 1767261600,
            'duration_min' => 30, 'timezone' => 'Asia/Kolkata', 'correlation_ref' => 'kc-0123456789abcdef0123'],
        'policy' => ['alternative_hosts' => ['a@clinic.example']],
    ];
}
