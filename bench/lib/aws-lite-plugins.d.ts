/** The aws-lite plugins ship no types; aws-lite loads them by their default export. */
declare module "@aws-lite/apigatewaymanagementapi" {
  const plugin: object;
  export default plugin;
}
