// Parts of the hosts the app suites build: a store over a Map, and a network that refuses every connection.
import type { Store, TCPSocket, TCPSocketOptions } from "telltale/io/io";
import { utf8Size } from "telltale/text/utf8";

/** A network where every connection is refused (reported after the constructor returns, as sockets do). */
export class RefusingSocket implements TCPSocket {
  constructor(options: TCPSocketOptions) {
    void Promise.resolve().then(() =>
      options.onError?.call(this, new Error("TCP: connection refused by " + options.address + ":" + options.port)),
    );
  }
  read(): ArrayBuffer | undefined {
    return undefined;
  }
  write(): void {
    throw new Error("not connected");
  }
  close(): void {}
}

/**
 * The host's store over `map`, which the test reads and changes directly. With `maxValueBytes` it refuses longer
 * values (in UTF-8 bytes) as the ESP32's NVS store does (hosts/moddable/store.ts), keeping the previous value.
 */
export function mapStore(map: Map<string, string>, maxValueBytes?: number): Store {
  return {
    maxValueBytes,
    get: (k) => map.get(k),
    set: (k, v) => {
      const bytes = utf8Size(v);
      if (maxValueBytes !== undefined && bytes > maxValueBytes)
        throw new RangeError(
          "Store: value of " + JSON.stringify(k) + " is " + bytes + " bytes; this host keeps at most " + maxValueBytes,
        );
      map.set(k, v);
    },
    delete: (k) => {
      map.delete(k);
    },
  };
}
