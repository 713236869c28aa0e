using PopSteer.Retrainer;
using PopSteer.Streaming.Configuration;

var builder = Host.CreateApplicationBuilder(args);
builder.Configuration.AddPopSteerConfigDirectory();
builder.Services.AddRetrainer(builder.Configuration);
builder.Services.AddPopSteerMetrics(builder.Configuration, "popsteer-retrainer");
builder.Build().Run();
