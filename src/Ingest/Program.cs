using PopSteer.Ingest;
using PopSteer.Streaming.Configuration;
using PopSteer.Streaming.DependencyInjection;

var builder = Host.CreateApplicationBuilder(args);
builder.Configuration.AddPopSteerConfigDirectory();
builder.Services.AddIngest(builder.Configuration);
builder.Services.AddPopSteerMetrics(builder.Configuration, "popsteer-ingest");
builder.Build().RunPopSteerService();
