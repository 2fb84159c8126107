// The console: every control is a [data-event] button or form handled by live.js.
import { start } from "./live.js";

start();
