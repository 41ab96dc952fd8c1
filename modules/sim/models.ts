// For each part, how a simulated host puts its chip model into the world (fed by the machine). The one sim module that
// names parts: world.ts is handed this table and knows none of them.
import type { Clock } from "telltale/io/io";
import type { SensorDeclaration } from "telltale/drivers/part";
import type { SimI2CBus } from "telltale/sim/i2c-bus";
import type { SimGPIO } from "telltale/sim/gpio";
import type { MachineEnvironment } from "telltale/sim/machine";
import { SHT3xModel } from "telltale/drivers/sht3x/model";
import { BME280Model } from "telltale/drivers/bme280/model";
import { ADXL345Model } from "telltale/drivers/adxl345/model";
import { MPU6050Model } from "telltale/drivers/mpu6050/model";
import { SHT4xModel } from "telltale/drivers/sht4x/model";
import { INA226Model } from "telltale/drivers/ina226/model";
import { ADS1115Model } from "telltale/drivers/ads1115/model";
import { INA219Model } from "telltale/drivers/ina219/model";
// Drivers add one import line above and one entry below.

/** What an attach function may use of the world it puts a model into (world.ts's SimWorld is one). */
export interface ModelContext {
  readonly clock: Clock;
  readonly bus: SimI2CBus;
  readonly gpio: SimGPIO;
  readonly machine: MachineEnvironment;
  /** Time since the world was made, ms. */
  elapsed(now: number): number;
}

/** Attaches the model of one declared sensor to the world; returns it (tests inject faults through it). */
export type AttachModel = (world: ModelContext, declaration: SensorDeclaration) => unknown;
/** Attach functions by part name (the "part" field of a declaration). */
export type ModelTable = Readonly<Record<string, AttachModel>>;

export const models: ModelTable = Object.freeze({
  sht3x: (world: ModelContext, d: SensorDeclaration) => {
    const m = world.machine;
    const model = new SHT3xModel({
      environment: {
        temperature: (now) => m.temperature(world.elapsed(now)),
        humidity: (now) => m.humidity(world.elapsed(now)),
      },
    });
    world.bus.attach(d.address!, model);
    return model;
  },
  bme280: (world: ModelContext, d: SensorDeclaration) => {
    const m = world.machine;
    const model = new BME280Model({
      environment: {
        temperature: (now) => m.temperature(world.elapsed(now)),
        pressure: (now) => m.pressure(world.elapsed(now)),
        humidity: (now) => m.humidity(world.elapsed(now)),
      },
    });
    world.bus.attach(d.address!, model);
    return model;
  },
  adxl345: (world: ModelContext, d: SensorDeclaration) => {
    const m = world.machine;
    // With an INT pin the model keeps time on the world clock so its watermark interrupt rises on time.
    const model = new ADXL345Model({
      motion: { vibration: (now, axis) => m.vibration(world.elapsed(now), axis) },
      clock: d.pin !== undefined ? world.clock : undefined,
    });
    world.bus.attach(d.address!, model);
    if (d.pin !== undefined) {
      const pin = d.pin;
      world.gpio.set(pin, 0);
      model.onInterrupt = (level) => world.gpio.set(pin, level ? 1 : 0);
    }
    return model;
  },
  mpu6050: (world: ModelContext, d: SensorDeclaration) => {
    const m = world.machine;
    const model = new MPU6050Model({
      motion: { vibration: (now, axis) => m.vibration(world.elapsed(now), axis) },
      clock: d.pin !== undefined ? world.clock : undefined,
    });
    world.bus.attach(d.address!, model);
    if (d.pin !== undefined) {
      const pin = d.pin;
      world.gpio.set(pin, 0);
      model.onInterrupt = (level) => world.gpio.set(pin, level ? 1 : 0);
    }
    return model;
  },
  // A door or float switch: floating until a test or the simulator drives it (the input's pull decides meanwhile).
  "digital-input": (world: ModelContext, d: SensorDeclaration) => {
    const pin = d.pin!;
    return { pin, set: (level: number | undefined) => world.gpio.set(pin, level) };
  },
  // A tachometer on the shaft: pulsesPerRevolution pulses per turn at the machine's speed.
  "pulse-counter": (world: ModelContext, d: SensorDeclaration) => {
    const pin = d.pin!,
      m = world.machine,
      perTurn = (d.options.pulsesPerRevolution as number | undefined) ?? 1;
    world.gpio.drivePulses(pin, (now) => (m.rpm(world.elapsed(now)) / 60) * perTurn);
    return { pin };
  },
  relay: (world: ModelContext, d: SensorDeclaration) => {
    const pin = d.pin!;
    return { pin, writes: () => world.gpio.writes(pin) };
  },
  sht4x: (world: ModelContext, d: SensorDeclaration) => {
    const m = world.machine;
    const model = new SHT4xModel({
      environment: {
        temperature: (now) => m.temperature(world.elapsed(now)),
        humidity: (now) => m.humidity(world.elapsed(now)),
      },
    });
    world.bus.attach(d.address!, model);
    return model;
  },
  ina226: (world: ModelContext, d: SensorDeclaration) => {
    const m = world.machine;
    // The motor's supply through the shunt the declaration names.
    const model = new INA226Model({
      shunt: d.options.shunt as number,
      rail: {
        current: (now) => m.current(world.elapsed(now)),
        busVoltage: (now) => m.busVoltage(world.elapsed(now)),
      },
    });
    world.bus.attach(d.address!, model);
    return model;
  },
  // AIN0: a Hall current clamp, 0.1 V/A; AIN1: a 0.5–4.5 V pump pressure transducer for 0–10 bar;
  // AIN2: the motor supply through a 1:11 divider; AIN3: grounded. With a pin, ALERT/RDY drives it.
  ads1115: (world: ModelContext, d: SensorDeclaration) => {
    const m = world.machine;
    const model = new ADS1115Model({
      clock: d.pin !== undefined ? world.clock : undefined,
      inputs: {
        voltage: (now, input) => {
          const t = world.elapsed(now);
          return input === 0
            ? 0.1 * m.current(t)
            : input === 1
              ? 0.5 + 0.4 * m.pumpPressure(t)
              : input === 2
                ? m.busVoltage(t) / 11
                : 0;
        },
      },
    });
    world.bus.attach(d.address!, model);
    if (d.pin !== undefined) {
      const pin = d.pin;
      world.gpio.set(pin, 1);
      model.onAlert = (level) => world.gpio.set(pin, level);
    }
    return model;
  },
  ina219: (world: ModelContext, d: SensorDeclaration) => {
    const m = world.machine;
    const model = new INA219Model({
      shunt: d.options.shunt as number,
      rail: {
        current: (now) => m.current(world.elapsed(now)),
        busVoltage: (now) => m.busVoltage(world.elapsed(now)),
      },
    });
    world.bus.attach(d.address!, model);
    return model;
  },
});
