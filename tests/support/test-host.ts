// Parts of the hosts the app suites build: a store over a Map, and a network that refuses every connection.
import type { Store, TCPSocket, TCPSocketOptions } from "telltale/io/io";

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

/** The host's store over `map`, which the test reads and changes directly. */
export function mapStore(map: Map<string, string>): Store {
  return {
    get: (k) => map.get(k),
    set: (k, v) => {
      map.set(k, v);
    },
    delete: (k) => {
      map.delete(k);
    },
  };
}
