"""Python sample from seed page shared/seeds/004_a4a843e72b16fd86.txt (Archive task)."""
import requests
import json
import os

access_token = os.environ.get('TALLYFY_ACCESS_TOKEN', 'YOUR_PERSONAL_ACCESS_TOKEN')
org_id = os.environ.get('TALLYFY_ORG_ID', 'YOUR_ORGANIZATION_ID')
task_id = os.environ['TALLYFY_TASK_ID'] # ID of the standalone task
base = os.environ['TALLYFY_API_BASE']
api_url = f'{base}/organizations/{org_id}/tasks/{task_id}'

headers = {
    'Authorization': f'Bearer {access_token}',
    'Accept': 'application/json',
    'X-Tallyfy-Client': 'APIClient'
}

response = None
try:
    response = requests.delete(api_url, headers=headers)

    # Check for successful status codes (204 or 200)
    if response.status_code == 200:
        print(f'Successfully archived one-off task {task_id}. Status: 200 OK')
        try:
            if response.content:
                archived_task = response.json()
                print('Archived task details:')
                print(json.dumps(archived_task, indent=4))
            else:
                print("(Received status 200 but response body is empty)")
        except json.JSONDecodeError:
            print(f"(Received status 200 but body not valid JSON: {response.text})")
    elif response.status_code == 204:
        print(f'Successfully archived one-off task {task_id}. Status: 204 No Content')
    else:
        # Raise an exception for other non-success status codes
        response.raise_for_status()

except requests.exceptions.HTTPError as http_err:
    print(f"HTTP error occurred archiving task {task_id}: {http_err}")
    if response is not None:
        print(f"Response Body: {response.text}")
except requests.exceptions.RequestException as req_err:
    print(f"Request failed archiving task {task_id}: {req_err}")
except Exception as err:
    print(f"An unexpected error occurred: {err}")
