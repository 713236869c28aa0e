using PopSteer.Scorer;
using PopSteer.Streaming.Configuration;

var builder = Host.CreateApplicationBuilder(args);
builder.Configuration.AddPopSteerConfigDirectory();
builder.Services.AddScorer(builder.Configuration);
builder.Services.AddPopSteerMetrics(builder.Configuration, "popsteer-scorer");
builder.Build().Run();
