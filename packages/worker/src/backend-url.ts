// The backend URLs and driver loading live in @cairn/client; re-exported here for the CLI's imports.
export { parseBackendUrl, openBackend, loadDriver, isDriverAvailable, type BackendTarget } from "@cairn/client";
