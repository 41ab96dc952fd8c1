// The optional features composed onto every app, each a service (service.ts) with its own file: one line each here.
import { HomeAssistantDiscovery } from "telltale/ha/home-assistant";
import { RemoteConfig } from "./remote-config.js";
import type { App } from "./app.js";
import { HealthReport } from "./health.js";
import { OtaService } from "./ota.js";

export function addFeatures(app: App): void {
  app.use(new HomeAssistantDiscovery(app));
  app.use(new HealthReport(app));
  app.use(new RemoteConfig(app));
  app.use(new OtaService(app));
}
