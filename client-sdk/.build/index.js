export { appCodeOf, createClusterCodeClient, } from "./client.js";
