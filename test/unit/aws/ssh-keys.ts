// Real OpenSSH public-key lines made with node:crypto, so the key checks are exercised on genuine blobs.
import { generateKeyPairSync } from "node:crypto";

function sshString(b: Buffer): Buffer {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(b.length);
    return Buffer.concat([len, b]);
}

function mpint(b: Buffer): Buffer {
    return sshString(b[0] & 0x80 ? Buffer.concat([Buffer.from([0]), b]) : b);
}

export function ed25519Line(comment = "ops@example"): string {
    const jwk = generateKeyPairSync("ed25519").publicKey.export({ format: "jwk" });
    const blob = Buffer.concat([sshString(Buffer.from("ssh-ed25519")), sshString(Buffer.from(jwk.x!, "base64url"))]);
    return `ssh-ed25519 ${blob.toString("base64")} ${comment}`;
}

export function rsaLine(bits: number): string {
    const jwk = generateKeyPairSync("rsa", { modulusLength: bits }).publicKey.export({ format: "jwk" });
    const blob = Buffer.concat([sshString(Buffer.from("ssh-rsa")), mpint(Buffer.from(jwk.e!, "base64url")), mpint(Buffer.from(jwk.n!, "base64url"))]);
    return `ssh-rsa ${blob.toString("base64")} rsa@example`;
}
