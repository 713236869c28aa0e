using PopSteer.Retrainer;
using PopSteer.Streaming.Configuration;
using PopSteer.Streaming.DependencyInjection;

var builder = Host.CreateApplicationBuilder(args);
builder.Configuration.AddPopSteerConfigDirectory();
builder.Services.AddRetrainer(builder.Configuration);
builder.Services.AddPopSteerMetrics(builder.Configuration, "popsteer-retrainer");
builder.Build().RunPopSteerService();
