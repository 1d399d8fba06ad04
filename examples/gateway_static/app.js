// Ask the API through the gateway and list which upstream answered.
document.getElementById("ask").addEventListener("click", async () => {
  const response = await fetch("/api/whoami", {headers: {Accept: "application/json"}});
  const answer = await response.json();
  const item = document.createElement("li");
  item.textContent = `upstream ${answer.upstream} (pid ${answer.pid}) answered ${answer.path}`;
  document.getElementById("answers").prepend(item);
});
