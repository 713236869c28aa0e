Console.WriteLine("popsteer: not wired yet");
return 0;
