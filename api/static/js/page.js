// For pages with nothing of their own to load (the error pages): the site header alone.
import { initPage } from "./layout.js";

initPage();
