import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';

/**
 * A software WebAuthn authenticator for API tests: an ES256 key from node:crypto, a
 * registration with attestation format `none` and assertions signed over authenticatorData
 * and the hash of clientDataJSON, exactly what a browser passes to the server. (Browser tests
 * use Chromium's virtual authenticator instead.)
 */

// The tiny part of CBOR (RFC 8949) an attestation object needs: integers, byte and text strings, maps.
type Cbor = number | string | Uint8Array | Map<Cbor, Cbor>;

function head(major: number, value: number): Buffer {
  if (value < 24) return Buffer.from([(major << 5) | value]);
  if (value < 0x100) return Buffer.from([(major << 5) | 24, value]);
  if (value < 0x10000) return Buffer.from([(major << 5) | 25, value >> 8, value & 0xff]);
  const b = Buffer.alloc(5);
  b[0] = (major << 5) | 26;
  b.writeUInt32BE(value, 1);
  return b;
}

export function cborEncode(value: Cbor): Buffer {
  if (typeof value === 'number') return value >= 0 ? head(0, value) : head(1, -1 - value);
  if (typeof value === 'string') {
    const bytes = Buffer.from(value, 'utf8');
    return Buffer.concat([head(3, bytes.length), bytes]);
  }
  if (value instanceof Uint8Array) return Buffer.concat([head(2, value.length), Buffer.from(value)]);
  const parts: Buffer[] = [head(5, value.size)];
  for (const [k, v] of value) parts.push(cborEncode(k), cborEncode(v));
  return Buffer.concat(parts);
}

const b64url = (bytes: Uint8Array | string) => Buffer.from(bytes).toString('base64url');
const sha256 = (data: Uint8Array | string) => createHash('sha256').update(data).digest();

const FLAG_UP = 0x01;
const FLAG_UV = 0x04;
const FLAG_AT = 0x40;

export interface SoftAuthenticatorOptions {
  /** The page origin the "browser" reports (the server's public URL). */
  origin: string;
  /** Whether the authenticator verifies the user (PIN, biometrics): sets UV. */
  userVerification?: boolean;
  /** Whether it makes discoverable credentials: reported as credProps.rk. */
  residentKey?: boolean;
}

interface Credential {
  id: Buffer;
  privateKey: KeyObject;
  rpId: string;
  userHandle: string;
  counter: number;
}

export function createSoftAuthenticator(opts: SoftAuthenticatorOptions) {
  const uv = opts.userVerification ?? true;
  const rk = opts.residentKey ?? true;
  const credentials: Credential[] = [];

  const flags = (extra = 0) => FLAG_UP | (uv ? FLAG_UV : 0) | extra;
  const counterBytes = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n);
    return b;
  };
  const clientData = (type: string, challenge: string, origin = opts.origin) => Buffer.from(JSON.stringify({ type, challenge, origin, crossOrigin: false }));

  return {
    credentials,

    /** What startRegistration() returns for these creation options. */
    register(options: { challenge: string; rp: { id?: string }; user: { id: string } }, override: { origin?: string } = {}) {
      const rpId = options.rp.id!;
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const jwk = publicKey.export({ format: 'jwk' });
      const cose = cborEncode(
        new Map<Cbor, Cbor>([
          [1, 2], // kty: EC2
          [3, -7], // alg: ES256
          [-1, 1], // crv: P-256
          [-2, Buffer.from(jwk.x!, 'base64url')],
          [-3, Buffer.from(jwk.y!, 'base64url')],
        ]),
      );
      const id = randomBytes(16);
      const idLength = Buffer.alloc(2);
      idLength.writeUInt16BE(id.length);
      const authData = Buffer.concat([sha256(rpId), Buffer.from([flags(FLAG_AT)]), counterBytes(0), Buffer.alloc(16), idLength, id, cose]);
      const attestationObject = cborEncode(
        new Map<Cbor, Cbor>([
          ['fmt', 'none'],
          ['attStmt', new Map()],
          ['authData', authData],
        ]),
      );
      credentials.push({ id, privateKey, rpId, userHandle: options.user.id, counter: 0 });
      return {
        id: b64url(id),
        rawId: b64url(id),
        type: 'public-key',
        authenticatorAttachment: 'platform',
        response: { clientDataJSON: b64url(clientData('webauthn.create', options.challenge, override.origin)), attestationObject: b64url(attestationObject), transports: ['internal'] },
        clientExtensionResults: { credProps: { rk } },
      };
    },

    /** What startAuthentication() returns: with a credential the options allow, or (none listed) a discoverable one. */
    authenticate(options: { challenge: string; rpId?: string; allowCredentials?: { id: string }[] }, which?: number) {
      const allowed = options.allowCredentials?.length ? credentials.filter((c) => options.allowCredentials!.some((a) => a.id === b64url(c.id))) : credentials;
      const credential = which === undefined ? allowed[0] : credentials[which];
      if (!credential) throw new Error('no credential for these options');
      credential.counter += 1;
      const authData = Buffer.concat([sha256(credential.rpId), Buffer.from([flags()]), counterBytes(credential.counter)]);
      const client = clientData('webauthn.get', options.challenge);
      const signature = sign('sha256', Buffer.concat([authData, sha256(client)]), credential.privateKey);
      return {
        id: b64url(credential.id),
        rawId: b64url(credential.id),
        type: 'public-key',
        authenticatorAttachment: 'platform',
        response: { clientDataJSON: b64url(client), authenticatorData: b64url(authData), signature: b64url(signature), userHandle: credential.userHandle },
        clientExtensionResults: {},
      };
    },
  };
}
export type SoftAuthenticator = ReturnType<typeof createSoftAuthenticator>;
