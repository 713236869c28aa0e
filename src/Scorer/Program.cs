using PopSteer.Scorer;
using PopSteer.Streaming.Configuration;
using PopSteer.Streaming.DependencyInjection;

var builder = Host.CreateApplicationBuilder(args);
builder.Configuration.AddPopSteerConfigDirectory();
builder.Services.AddScorer(builder.Configuration);
builder.Services.AddPopSteerMetrics(builder.Configuration, "popsteer-scorer");
builder.Build().RunPopSteerService();
