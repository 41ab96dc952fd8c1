// The simulated bus: address checks, NACK for an empty address, stuck-bus errors.
import { suite, test, throws, deepEqual } from "../../harness.js";
import { SimI2CBus, type I2CDeviceModel } from "telltale/sim/i2c-bus";
import { ManualClock } from "../../support/manual-clock.js";

class Echo implements I2CDeviceModel {
  last: Uint8Array = new Uint8Array(0);
  write(bytes: Uint8Array): void {
    this.last = bytes;
  }
  read(count: number): Uint8Array {
    return this.last.subarray(0, count);
  }
}

suite("sim/i2c-bus", () => {
  test("empty-address-nacks", () => {
    const I2C = new SimI2CBus(new ManualClock()).ioClass();
    const io = new I2C({ address: 0x44 });
    throws(() => io.write(Uint8Array.of(1)), /no acknowledge from address 0x44/);
  });
  test("write-then-read-reaches-model", () => {
    const bus = new SimI2CBus(new ManualClock());
    bus.attach(0x10, new Echo());
    const io = new (bus.ioClass())({ address: 0x10 });
    io.write(Uint8Array.of(7, 8, 9));
    deepEqual(new Uint8Array(io.read(2)), Uint8Array.of(7, 8));
  });
  test("short-answer-reads-the-same-into-a-buffer", () => {
    // A model answering fewer bytes than asked leaves zeros in both read forms, not a previous read's bytes.
    const bus = new SimI2CBus(new ManualClock());
    bus.attach(0x10, new Echo());
    const io = new (bus.ioClass())({ address: 0x10 });
    const buffer = Uint8Array.of(0xaa, 0xbb, 0xcc);
    io.write(Uint8Array.of(7));
    io.read(buffer);
    deepEqual(buffer, Uint8Array.of(7, 0, 0));
    deepEqual(new Uint8Array(io.read(3)), Uint8Array.of(7, 0, 0));
  });
  test("stuck-bus-fails-every-transfer", () => {
    const bus = new SimI2CBus(new ManualClock());
    bus.attach(0x10, new Echo());
    bus.stuck = true;
    const io = new (bus.ioClass())({ address: 0x10 });
    throws(() => io.read(1), /bus error/);
  });
  test("invalid-address-rejected", () => {
    const I2C = new SimI2CBus(new ManualClock()).ioClass();
    throws(() => new I2C({ address: 0x80 }), /invalid address/);
  });
});
