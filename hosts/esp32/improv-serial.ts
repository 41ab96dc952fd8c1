// Improv Wi-Fi on the ESP32's USB serial port (UART0) through ECMA-419 embedded:io/serial.
import device from "embedded:provider/builtin";
import Timer from "timer";
import { messageOf } from "telltale/errors/message";
import { ImprovService, type ImprovServiceOptions } from "telltale/provision/improv-service";

export interface ImprovSerialOptions extends Omit<ImprovServiceOptions, "write" | "now"> {
  /** UART and pins of the USB serial bridge, and the baud rate Improv clients use (115200). */
  port: number;
  receive: number;
  transmit: number;
  baud: number;
}

/**
 * Opens the port and runs the Improv service on it; undefined (and logged) when the port cannot be opened. A debug
 * build's xsbug connection owns UART0 (the SDK's debugger_uart.c installs its driver), so Improv runs in release
 * builds, where the port carries only the trace output, which the client skips.
 */
export function openImprovSerial(options: ImprovSerialOptions): { service: ImprovService; close(): void } | undefined {
  const start = Date.now();
  // The transmit FIFO takes what onWritable reports; the rest waits here.
  const pending: Uint8Array[] = [];
  let writable = 0;
  let serial: InstanceType<typeof device.io.Serial> | undefined;
  const pump = (): void => {
    while (serial && writable > 0 && pending.length > 0) {
      const head = pending[0]!;
      const n = Math.min(writable, head.length);
      serial.write(head.subarray(0, n));
      writable -= n;
      if (n === head.length) pending.shift();
      else pending[0] = head.subarray(n);
    }
  };
  const service = new ImprovService({
    ...options,
    write: (bytes) => {
      pending.push(bytes);
      pump();
    },
    now: () => Date.now() - start,
  });
  try {
    serial = new device.io.Serial({
      port: options.port,
      receive: options.receive,
      transmit: options.transmit,
      baud: options.baud,
      format: "buffer",
      onReadable(count: number) {
        const bytes = this.read(count);
        if (bytes instanceof ArrayBuffer) service.feed(new Uint8Array(bytes));
      },
      onWritable(count: number) {
        writable = count;
        pump();
      },
    });
  } catch (e) {
    options.log?.("improv: serial port " + options.port + " cannot be opened (" + messageOf(e) + "); Improv is off");
    return undefined;
  }
  // A client that opened the port before the device started learns the state without asking.
  Timer.set(() => service.announce(), 100);
  return {
    service,
    close(): void {
      service.close();
      serial?.close();
      serial = undefined;
    },
  };
}
