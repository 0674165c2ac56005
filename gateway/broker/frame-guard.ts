import { Duplex } from 'node:stream';
import type { Socket } from 'node:net';

/** Why a guard closed its socket (also the `reason` label of the refusal counter). */
export type GuardRefusal = 'connect_too_large' | 'packet_too_large' | 'not_connect' | 'malformed' | 'connect_timeout';

export interface FrameGuardOptions {
  /** Largest remaining length of the first packet (CONNECT), checked before its body is read. */
  maxConnectPacket: number;
  /** Largest remaining length of any later packet. */
  maxPacket: number;
  /** The CONNECT must be accepted within this many ms. */
  connectTimeoutMs: number;
  onRefuse: (reason: GuardRefusal, detail: { declared?: number; bytesRead: number }) => void;
}

/**
 * Sits between a socket and aedes (which reads each MQTT packet whole, before CONNECT is checked
 * and before any payload limit): it follows the fixed headers as bytes pass, without buffering
 * them, and closes the socket as soon as a header declares more than its limit, so a 250 MB
 * CONNECT costs one socket read, not 250 MB. Until the broker accepts the CONNECT, nothing past
 * it reaches aedes: the socket is paused (TCP holds the rest), so a client cannot queue packets
 * while its login is checked. A socket that has not been accepted within the deadline is closed.
 */
export class FrameGuard extends Duplex {
  /** Client certificate's user (mqtts listener), set before the CONNECT is handled. */
  certUser: string | undefined;
  private accepted = false;
  private packets = 0;
  /** True while a fixed header's remaining length is being read. */
  private inHeader = false;
  private len = 0;
  private mult = 1;
  private lenBytes = 0;
  private type = 0;
  private bodyLeft = 0;
  /** Bytes that came after the CONNECT before it was accepted. */
  private held: Buffer | undefined;
  private endAfterHeld = false;
  private deadline: NodeJS.Timeout | undefined;

  constructor(
    readonly socket: Socket,
    private readonly opts: FrameGuardOptions,
  ) {
    // A socket read is up to 64 kB: a readable buffer of that size takes one without pausing it.
    super({ allowHalfOpen: false, readableHighWaterMark: 64 * 1024 });
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('end', () => {
      // A client may send CONNECT, PUBLISH and its FIN at once: the held packets come first.
      if (this.held) this.endAfterHeld = true;
      else this.push(null);
    });
    socket.on('error', (err) => this.destroy(err));
    socket.on('close', () => this.destroy());
    socket.on('drain', () => this.emit('socketDrain'));
    this.deadline = setTimeout(() => this.refuse('connect_timeout'), opts.connectTimeoutMs);
  }

  get remoteAddress(): string | undefined {
    return this.socket.remoteAddress;
  }

  /** The broker accepted the CONNECT: later packets may be up to maxPacket, held bytes flow. */
  accept(): void {
    if (this.accepted) return;
    this.accepted = true;
    clearTimeout(this.deadline);
    const held = this.held;
    this.held = undefined;
    if (held && !this.forward(held)) return;
    if (this.endAfterHeld) this.push(null);
    else this.socket.resume();
  }

  override _read(): void {
    if (!this.held && !this.destroyed) this.socket.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.socket.write(chunk)) cb();
    else this.once('socketDrain', () => cb());
  }

  /** mqtt-packet writes a packet in pieces under cork(): they reach the socket in one go. */
  override _writev(chunks: { chunk: Buffer }[], cb: (err?: Error | null) => void): void {
    this.socket.cork();
    let ok = true;
    for (const c of chunks) ok = this.socket.write(c.chunk);
    this.socket.uncork();
    if (ok) cb();
    else this.once('socketDrain', () => cb());
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.socket.end(() => cb());
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    clearTimeout(this.deadline);
    this.held = undefined;
    this.socket.destroy();
    cb(err);
  }

  private onData(chunk: Buffer): void {
    if (this.held) {
      // The socket is paused; a read already under way can still deliver one more chunk.
      this.held = Buffer.concat([this.held, chunk]);
      if (this.held.length > this.opts.maxConnectPacket + 65_536) this.refuse('connect_too_large');
      return;
    }
    this.forward(chunk);
  }

  /** Pass what the limits allow; hold what follows an unaccepted CONNECT. False when refused. */
  private forward(chunk: Buffer): boolean {
    const n = this.scan(chunk);
    if (n < 0) return false;
    if (n > 0 && !this.push(n === chunk.length ? chunk : chunk.subarray(0, n))) this.socket.pause();
    if (!this.accepted && this.packets > 0) {
      // The CONNECT is complete (its last byte may end this chunk): hold the rest until accepted.
      this.held = Buffer.from(chunk.subarray(n));
      this.socket.pause();
    }
    return true;
  }

  /** Bytes of `chunk` that may pass now; -1 when the socket was refused. */
  private scan(chunk: Buffer): number {
    let i = 0;
    while (i < chunk.length) {
      if (this.bodyLeft > 0) {
        const n = Math.min(this.bodyLeft, chunk.length - i);
        this.bodyLeft -= n;
        i += n;
        if (this.bodyLeft === 0 && this.endPacket()) return i;
        continue;
      }
      const b = chunk[i++] as number;
      if (!this.inHeader) {
        this.inHeader = true;
        this.type = b >> 4;
        this.len = 0;
        this.mult = 1;
        this.lenBytes = 0;
        if (this.packets === 0 && this.type !== 1) return this.refuse('not_connect');
        continue;
      }
      this.len += (b & 0x7f) * this.mult;
      this.mult *= 128;
      this.lenBytes++;
      const limit = this.accepted ? this.opts.maxPacket : this.opts.maxConnectPacket;
      // The declared length only grows with each byte: refuse as soon as it passes the limit.
      if (this.len > limit) return this.refuse(this.accepted ? 'packet_too_large' : 'connect_too_large', this.len);
      if (b & 0x80) {
        if (this.lenBytes === 4) return this.refuse('malformed');
        continue;
      }
      this.inHeader = false;
      this.bodyLeft = this.len;
      if (this.len === 0 && this.endPacket()) return i;
    }
    return i;
  }

  /** A packet ended; true when what follows must wait (an unaccepted CONNECT). */
  private endPacket(): boolean {
    this.packets++;
    return !this.accepted;
  }

  private refuse(reason: GuardRefusal, declared?: number): -1 {
    if (this.destroyed) return -1;
    this.opts.onRefuse(reason, { ...(declared !== undefined ? { declared } : {}), bytesRead: this.socket.bytesRead });
    this.destroy();
    return -1;
  }
}
