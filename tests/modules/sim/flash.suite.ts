// The simulated NOR flash: bits only clear on write, erase sets a block, a power cut keeps a prefix.
import { suite, test, equal, ok, throws } from "../../harness.js";
import { SimFlash, PowerCut } from "telltale/sim/flash";

suite("sim/flash", () => {
  test("write-only-clears-bits", () => {
    const f = new SimFlash({ byteLength: 64, blockSize: 16 });
    f.write(3, Uint8Array.of(0xf0));
    f.write(3, Uint8Array.of(0x3c));
    equal(new Uint8Array(f.read(3, 1))[0], 0x30);
  });

  test("erase-restores-ff-in-one-block-only", () => {
    const f = new SimFlash({ byteLength: 64, blockSize: 16 });
    f.write(0, new Uint8Array(32));
    f.erase(1);
    const bytes = new Uint8Array(f.read(0, 32));
    equal(bytes[15], 0);
    equal(bytes[16], 0xff);
    equal(bytes[31], 0xff);
    equal(f.erases[1], 1);
  });

  test("power-cut-keeps-prefix-and-refuses-until-power-on", () => {
    const f = new SimFlash({ byteLength: 64, blockSize: 16 });
    f.cutPowerAfter(2, 0x0f);
    const err = throws(() => f.write(0, Uint8Array.of(1, 2, 0x00, 4)), /power cut after 2 of 4 bytes/);
    ok(err instanceof PowerCut);
    throws(() => f.read(0, 1), /no power/);
    f.powerOn();
    const bytes = new Uint8Array(f.read(0, 4));
    equal(bytes[0], 1);
    equal(bytes[1], 2);
    equal(bytes[2], 0xf0, "the interrupted byte got only its low bits programmed");
    equal(bytes[3], 0xff);
  });

  test("power-cut-in-erase-leaves-half-a-block", () => {
    const f = new SimFlash({ byteLength: 64, blockSize: 16 });
    f.write(16, new Uint8Array(16));
    f.cutPowerInNextErase();
    throws(() => f.erase(1), /while erasing block 1/);
    f.powerOn();
    const bytes = new Uint8Array(f.read(16, 16));
    equal(bytes[0], 0xff);
    equal(bytes[15], 0);
  });

  test("out-of-range-access-throws", () => {
    const f = new SimFlash({ byteLength: 64, blockSize: 16 });
    throws(() => f.read(60, 8), /outside 0-64/);
    throws(() => f.erase(4), /outside/);
  });
});
