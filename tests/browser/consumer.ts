// A small consumer of pkg/'s generated declarations: `tsc --noEmit` must accept it, and must
// reject the misuses marked @ts-expect-error (so the types are real, not `any`).
import init, {
  validateAdminSettings,
  validateDoctorSettings,
  validatePolicy,
  effectivePolicy,
  zoomAppSetup,
  type AppSetup,
  previewCreateMeeting,
  coreVersion,
  type AdminSettings,
  type Report,
  type CoreError,
  type MeetingPreview,
  type PolicyLayer,
} from '../../pkg/kc_telemed.js';

export async function demo(): Promise<string> {
  await init();
  const settings: AdminSettings = { auth_type: 'oauth', client_id: 'AbCdEfGhIjKl', redirect_url: 'https://clinic.example/cb' };
  const report: Report = validateAdminSettings(settings);
  const first: CoreError | undefined = report.errors[0];
  const field: string | undefined = first?.field ?? undefined;
  const policy: PolicyLayer = { waiting_room: true, jbh_time: 0 };
  const effective: PolicyLayer = effectivePolicy(policy);
  const setup: AppSetup = zoomAppSetup({ auth_type: 'oauth' });
  const scopes: string[] = setup.scopes;
  const valid: boolean = effective.waiting_room === true && validatePolicy(policy).valid && validateDoctorSettings({ auth_type: 'none' }).valid;
  const preview: MeetingPreview = previewCreateMeeting({
    host: 'me',
    appointment: { id: 1, start_unix: 1767261600, duration_min: 30, timezone: 'UTC', correlation_ref: 'kc-0123456789abcdef0123' },
  });
  return `${coreVersion()} ${scopes.join(' ')} ${field ?? ''} ${valid} ${preview.method} ${first?.code ?? ''}`;
}

// @ts-expect-error auth_type is a string, not a number
validateAdminSettings({ auth_type: 42 });
// @ts-expect-error a preview needs the appointment
previewCreateMeeting({ host: 'me' });
// @ts-expect-error reports have no `ok` field
validatePolicy({}).ok;
// @ts-expect-error the app setup needs the mode
zoomAppSetup({ register_patient: true });
// @ts-expect-error a policy's waiting room is a flag
effectivePolicy({ waiting_room: 'yes' });
