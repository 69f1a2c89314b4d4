import { startAuthentication, startRegistration, WebAuthnError } from '@simplewebauthn/browser';

/**
 * The browser's passkey prompts, with what went wrong said in words a person can act on
 * (cancelled, no passkey here, already registered) instead of a DOMException's name.
 */
function explain(error: unknown): Error {
  if (error instanceof WebAuthnError) {
    if (error.code === 'ERROR_AUTHENTICATOR_PREVIOUSLY_REGISTERED') return new Error('This passkey is already registered to your account.');
    if (error.code === 'ERROR_CEREMONY_ABORTED') return new Error('The passkey prompt was cancelled.');
  }
  if (error instanceof Error && error.name === 'NotAllowedError') return new Error('The passkey prompt was cancelled or timed out. Try again.');
  return error instanceof Error ? error : new Error('The passkey could not be used.');
}

export async function createPasskey(options: Record<string, unknown>) {
  try {
    return await startRegistration({ optionsJSON: options as unknown as Parameters<typeof startRegistration>[0]['optionsJSON'] });
  } catch (error) {
    throw explain(error);
  }
}

export async function assertPasskey(options: Record<string, unknown>) {
  try {
    return await startAuthentication({ optionsJSON: options as unknown as Parameters<typeof startAuthentication>[0]['optionsJSON'] });
  } catch (error) {
    throw explain(error);
  }
}
